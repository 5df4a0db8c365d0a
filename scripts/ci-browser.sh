#!/usr/bin/env bash
# The reference intake page (/intake/) in a real browser, on a clean clone with Rust and
# Node 20+ preinstalled:
#   1. Debian's chromium (apt-get, when missing) and the locked npm packages (puppeteer-core)
#   2. the committed page script (src/intake/assets/intake.js) is what clients/intake/src
#      compiles to against the types of the committed OpenAPI document
#   3. the release build, started on a free 127.0.0.1 port on its embedded defaults
#   4. clients/typescript/src/intake-browser.ts: a keyboard-only walk to self_care, a
#      saddle-numbness walk to the emergency screen, a Spanish walk; screenshots in
#      target/browser/
#   5. clients/typescript/src/lforms-roundtrip.ts: the FHIR Questionnaire rendered by NLM's
#      LHC-Forms (npm `lforms`, served from node_modules on 127.0.0.1), filled through the
#      page, its exported QuestionnaireResponse posted to $triage (benign -> self_care,
#      saddle numbness -> emergency); screenshot in target/browser/lforms-questionnaire.png
# The server is stopped on exit. Only 127.0.0.1 is contacted (and the package registries
# while installing).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/.."
root=$(pwd)

export CARGO_TERM_COLOR=never
export NO_UPDATE_NOTIFIER=1
export npm_config_fund=false
export npm_config_audit=false
export npm_config_update_notifier=false

work="$root/target/browser"
mkdir -p "$work"
bin="$root/clients/typescript/node_modules/.bin"

stop_server_on_exit

echo "== browser: install: chromium (Debian) and the npm packages =="
chromium=${CHROMIUM:-/usr/bin/chromium}
if [[ ! -x "$chromium" ]]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
fi
"$chromium" --version 2>/dev/null || true
if [[ ! -x "$bin/tsc" || ! -d "$root/clients/typescript/node_modules/puppeteer-core" \
    || ! -d "$root/clients/typescript/node_modules/lforms" ]]; then
    npm ci --prefix clients/typescript --no-audit --no-fund --loglevel=error
fi

echo "== browser: the committed intake.js is what its TypeScript compiles to =="
(cd clients/typescript && "$bin/openapi-typescript" ../../openapi/openapi.json --output src/schema.d.ts >/dev/null)
compiled="$work/compiled"
rm -rf "$compiled"
"$bin/tsc" -p clients/intake --outDir "$compiled"
if ! diff -u src/intake/assets/intake.js "$compiled/intake.js"; then
    echo "src/intake/assets/intake.js is stale: run \`clients/typescript/node_modules/.bin/tsc -p clients/intake\`" >&2
    exit 1
fi
echo "intake.js matches clients/intake/src/intake.ts"

echo "== browser: build the test and the release server =="
rm -rf clients/typescript/.build
"$bin/tsc" -p clients/typescript
cargo build --release --locked

echo "== browser: start target/release/spasm-triage on a free 127.0.0.1 port =="
port=$(free_port)
APP_ENV=local \
    APP__SERVER__HOST=127.0.0.1 \
    APP__SERVER__PORT="$port" \
    APP__SERVER__WORKERS=2 \
    APP__LOG__LEVEL=warn \
    target/release/spasm-triage >"$work/server.log" 2>&1 &
server_pid=$!
wait_ready "$port" "$server_pid" "$work/server.log" 60

echo "== browser: headless Chromium walks through /intake/ =="
(cd clients/typescript && INTAKE_URL="http://127.0.0.1:$port" CHROMIUM="$chromium" \
    node .build/intake-browser.js "$work")

echo "== browser: LHC-Forms renders the FHIR Questionnaire; its QuestionnaireResponses go to \$triage =="
(cd clients/typescript && TRIAGE_URL="http://127.0.0.1:$port" CHROMIUM="$chromium" \
    node .build/lforms-roundtrip.js "$work")
