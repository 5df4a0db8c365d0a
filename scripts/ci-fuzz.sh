#!/usr/bin/env bash
# Bounded fuzzing for CI: every cargo-fuzz target in fuzz/ runs for FUZZ_SECONDS (default 30)
# from a clean clone on a fresh machine (Rust stable, gcc/g++ and Python only).
#
#   bash scripts/ci-fuzz.sh                    # all targets, 30 s each
#   FUZZ_SECONDS=300 bash scripts/ci-fuzz.sh   # longer
#   bash scripts/ci-fuzz.sh triage_bytes       # one target
#
# A crash, an invariant violation (the targets panic on one), a timeout (-timeout=5 s for one
# input) or memory over 2 GiB fails the script; libFuzzer leaves the input in
# fuzz/artifacts/<target>/ and prints the `cargo fuzz fmt` / `cargo fuzz tmin` commands.
# See fuzz/README.md for the longer local run and how to turn a crasher into a test.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

seconds="${FUZZ_SECONDS:-30}"

# cargo-fuzz drives the build and libFuzzer (bundled in the libfuzzer-sys crate, built with
# the C++ compiler). It builds from crates.io in a few minutes on 2 cores.
# Pinned to the version this was written and checked with; any 0.13 or later should do.
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz =="
    cargo install cargo-fuzz --version "${CARGO_FUZZ_VERSION:-0.13.2}" --locked
fi
cargo fuzz --version

# Stable Rust, no nightly:
# - cargo-fuzz's default sanitizer (AddressSanitizer) is passed as `-Zsanitizer=address`,
#   which stable rustc refuses ("the option `Z` is only accepted on the nightly compiler").
#   RUSTC_BOOTSTRAP=1 lets stable accept it (the ASan runtime ships with stable's rust-std,
#   so no `-Zbuild-std` is needed), and cargo-fuzz also reads RUSTC_BOOTSTRAP as "nightly".
# - We still pass `-s none` by default: everything a request reaches is safe Rust (ASan has
#   nothing to find that a panic would not), and without ASan each input runs about 1.5x as
#   fast in a fifteenth of the memory (measured here: 774 vs 516 exec/s, 33 vs 500 MB), so
#   30 s covers more. With `-s none` no -Z flag is passed at all (the coverage flags,
#   -Cpasses=sancov-module and -Cllvm-args=..., are stable codegen options); RUSTC_BOOTSTRAP
#   stays set so that FUZZ_SANITIZER=address works too (checked: it builds and runs).
# - cargo-fuzz builds with -Cdebug-assertions, so integer overflow panics too.
export RUSTC_BOOTSTRAP=1
sanitizer="${FUZZ_SANITIZER:-none}"

# Seeds: the request bodies of the golden cases, plus a dictionary of every vocabulary code
# and value (quoted JSON strings), both generated so they never drift from the repository.
# Seeds go to fuzz/seeds/ (ignored by git); libFuzzer only reads them, and writes what it
# finds to fuzz/corpus/<target>/ (also ignored).
python3 - <<'PY'
import glob, json, os, re
os.makedirs("fuzz/seeds/triage_bytes", exist_ok=True)
for path in sorted(glob.glob("tests/cases/*.json")):
    with open(path, encoding="utf-8") as f:
        request = json.load(f)["request"]
    name = os.path.splitext(os.path.basename(path))[0]
    with open(f"fuzz/seeds/triage_bytes/{name}.json", "w", encoding="utf-8") as out:
        json.dump(request, out, separators=(",", ":"))
# Inputs the fuzzer once found slow or wrong: each must now pass within -timeout below.
for path in sorted(glob.glob("fuzz/regressions/triage_bytes/*")):
    with open(path, "rb") as f, open(f"fuzz/seeds/triage_bytes/regression_{os.path.basename(path)}", "wb") as out:
        out.write(f.read())
# The two 64 KiB bodies of tests/engine/fuzz_regressions.rs (one long unknown key; 1,200
# code-length unknown keys), made here rather than committed.
long_key = "a" * (64 * 1024 - 40)
many = ",".join(f'"saddle_numb{i:04}":"present"' for i in range(1200))
for name, body in [("regression_long_key.json", f'{{"answers":{{"age_years":40,"sex":"male","{long_key}":"present"}}}}'),
                   ("regression_many_keys.json", f'{{"answers":{{"age_years":40,"sex":"male",{many}}}}}')]:
    with open(f"fuzz/seeds/triage_bytes/{name}", "w", encoding="utf-8") as out:
        out.write(body)
words = set()
with open("config/rules/vocabulary.toml", encoding="utf-8") as f:
    for line in f:
        if line.lstrip().startswith(("question", "description", "label", "#")):
            continue
        words.update(re.findall(r'"([a-z0-9_]+)"', line))
words.update(["answers", "options", "audience", "patient", "clinician", "present", "absent",
              "unknown"])
with open("fuzz/seeds/triage.dict", "w", encoding="utf-8") as out:
    for w in sorted(words):
        out.write(f'"\\"{w}\\""\n')
PY
echo "seeds: $(ls fuzz/seeds/triage_bytes | wc -l) request bodies, $(wc -l < fuzz/seeds/triage.dict) dictionary words"

if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list)
fi

for target in "${targets[@]}"; do
    echo
    echo "== fuzz $target (${seconds} s, sanitizer: $sanitizer) =="
    mkdir -p "fuzz/corpus/$target"
    corpora=("fuzz/corpus/$target")
    extra=()
    if [ -d "fuzz/seeds/$target" ]; then
        corpora+=("fuzz/seeds/$target")
    fi
    if [ "$target" = triage_bytes ]; then
        # Bodies up to the HTTP limit (server.body_limit_bytes, 64 KiB), not libFuzzer's
        # default 4 KiB: that is how the cost of "did you mean" on long keys was found.
        extra+=("-dict=fuzz/seeds/triage.dict" "-max_len=65536")
    fi
    cargo fuzz run -s "$sanitizer" "$target" "${corpora[@]}" -- \
        -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -print_final_stats=1 \
        "${extra[@]}"
done

echo
echo "fuzzing passed: ${targets[*]}"
