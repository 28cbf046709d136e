# Sourced by scripts/demo and scripts/test: create .venv if missing, install the project, set the environment.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
EXTRAS="${1:-}"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "== creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
fi
# Reinstall only when pyproject.toml changed since the last install into this venv.
stamp=".venv/.hfconnect-installed${EXTRAS:+-$EXTRAS}"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "== installing hfconnect${EXTRAS:+[$EXTRAS]} into .venv"
  .venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRAS:+[$EXTRAS]}" 2>&1 \
    | grep -v "^WARNING: Location" || true
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
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps --target "$peer" \
    "pyspark_huggingface==$PSH_VERSION" 2>&1 | grep -v "^WARNING: Location" || true
  [ -f "$peer/pyspark_huggingface/__init__.py" ] # fail here, clearly, if the install did not work
  touch "$peer/.installed-$PSH_VERSION"
fi
export PATH="$ROOT/.venv/bin:$PATH"
export PYSPARK_PYTHON="$ROOT/.venv/bin/python"
export PYSPARK_DRIVER_PYTHON="$ROOT/.venv/bin/python"
export SPARK_LOCAL_IP=127.0.0.1
export HF_HUB_DISABLE_XET=1
export HF_HUB_DISABLE_TELEMETRY=1
export TOKENIZERS_PARALLELISM=false
