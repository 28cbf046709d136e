# Sourced by scripts/demo, scripts/test and scripts/cluster: create .venv if missing, install the project, set the
# environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
PIP_LOG=".venv/pip.log"
# pip, quietly: its whole output goes to $PIP_LOG. A failed install prints that output and stops the calling script
# (exit 1); a successful one shows only what follows an ERROR: line (a dependency conflict pip reports without
# failing, and the conflicts it lists). Routine warnings (index locations, deprecations, "running as root") stay in
# the log.
pip_install() {
  local out status=0
  out="$(.venv/bin/python -m pip install -q --disable-pip-version-check "$@" 2>&1)" || status=$?
  printf '== %s: pip install %s (exit %s)\n%s\n' "$(date '+%F %T')" "$*" "$status" "$out" >>"$PIP_LOG"
  if [ "$status" -ne 0 ]; then
    printf '%s\n' "$out" >&2
    echo "== pip install $* failed (exit $status); its output is above and in $ROOT/$PIP_LOG" >&2
    exit 1
  fi
  printf '%s\n' "$out" | sed -n '/^ERROR:/,$p' >&2
}
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  pip_install --upgrade pip
fi
# Reinstall only when pyproject.toml changed since the last install into this venv.
stamp=".venv/.hfconnect-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing hfconnect${EXTRAS:+[$EXTRAS]} into .venv (pip's output: $PIP_LOG)"
  pip_install -e ".${EXTRAS:+[$EXTRAS]}"
  .venv/bin/python -c "import hfconnect" # fail here, clearly, if the install did not work
  touch "$stamp"
fi
# Peers the tests run beside hfconnect, installed apart (never imported by the suite itself): pyspark_huggingface,
# which also registers Spark's "huggingface" source (tests/spark/test_coexistence.py puts it on PYTHONPATH).
PSH_VERSION=2.1.0
peer=".venv/peers/pyspark_huggingface"
if [ "$EXTRAS" = "test" ] && [ ! -f "$peer/.installed-$PSH_VERSION" ]; then
  echo "== installing pyspark_huggingface==$PSH_VERSION into $peer (for the coexistence test)"
  rm -rf "$peer"
  pip_install --no-deps --target "$peer" "pyspark_huggingface==$PSH_VERSION"
  [ -f "$peer/pyspark_huggingface/__init__.py" ] # fail here, clearly, if the install did not work
  touch "$peer/.installed-$PSH_VERSION"
fi
export PATH="$ROOT/.venv/bin:$PATH"
export PYSPARK_PYTHON="$ROOT/.venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$ROOT/.venv/bin/python"
export SPARK_LOCAL_IP=127.0.0.1
export HF_HUB_DISABLE_TELEMETRY=1
export TOKENIZERS_PARALLELISM=false
