#!/usr/bin/env bash
# Idempotent set-up for verifier-diff on Debian (bookworm) as root:
#   Debian packages (bcc, clang, bpftool, kernel headers; chromium with --with-tests),
#   /lib/modules/$(uname -r)/{build,source} linked to Debian's headers when the running kernel has none,
#   a virtual environment (.venv) that can import the system's bcc, and the package itself.
# A second run checks and skips: it spends well under 10 s.
# Without root it cannot install packages: it says so and sets up what it can (the venv).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
with_tests=0
[ "${1:-}" = "--with-tests" ] && with_tests=1
say() { printf 'setup: %s\n' "$*" >&2; }

pkgs=(python3-bpfcc clang llvm bpftool libbpf-dev libbpf1 linux-headers-amd64 python3-venv python3-pip gcc)
[ "$with_tests" = 1 ] && pkgs+=(chromium)
# kernel matrix (--kernels host,6.1,6.12): QEMU (TCG), a static libc for the guest loader, zstd for 6.12's image
pkgs+=(qemu-system-x86 libc6-dev zstd)
# PyPy: the bench runs pyverifier under its JIT (compare.pyworker)
pkgs+=(pypy3)

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

is_root=0; [ "$(id -u)" = 0 ] && is_root=1

if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$is_root" = 1 ] && command -v apt-get >/dev/null; then
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    say "missing Debian packages (${missing[*]}) and not root: run with sudo to install them;" \
        "the pure-Python parts still work."
  fi
fi

# bcc compiles against /lib/modules/$(uname -r)/build; stock Debian headers work for a kernel that ships none.
kr="$(uname -r)"
if [ ! -e "/lib/modules/$kr/build/include" ] && [ "$is_root" = 1 ]; then
  hdr="$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1 || true)"
  if [ -n "$hdr" ]; then
    common="${hdr%-amd64}-common"
    mkdir -p "/lib/modules/$kr"
    ln -sfn "$hdr" "/lib/modules/$kr/build"
    [ -d "$common" ] && ln -sfn "$common" "/lib/modules/$kr/source"
    say "linked /lib/modules/$kr/build -> $hdr (no headers ship for $kr)"
  else
    say "no kernel headers under /usr/src: bcc-compiled C sources will not build"
  fi
fi

# The kernel's old-format verifier tests (test_verifier) for `corpus import-kernel-selftests` and its tests.
ksrc=/var/cache/verifier-diff/linux-source-6.1
if [ "$with_tests" = 1 ] && [ "$is_root" = 1 ] && [ ! -f "$ksrc/tools/testing/selftests/bpf/test_verifier.c" ]; then
  if ! dpkg-query -W -f='${Status}' linux-source-6.1 2>/dev/null | grep -q "install ok installed"; then
    say "installing linux-source-6.1 (the kernel selftests corpus)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.1 >/dev/null
  fi
  mkdir -p /var/cache/verifier-diff
  tar xf /usr/src/linux-source-6.1.tar.xz -C /var/cache/verifier-diff \
    linux-source-6.1/Makefile linux-source-6.1/tools linux-source-6.1/include
  say "unpacked linux-source-6.1 (Makefile, tools/, include/) into /var/cache/verifier-diff"
fi

# The kernel's new-format verifier tests (progs/verifier_*.c) for `corpus import-kernel-progs` and its tests:
# only what compiling them needs (the selftests, libbpf's headers, tools/include, the helper-definition generator).
ksrc12=/var/cache/verifier-diff/linux-source-6.12
if [ "$with_tests" = 1 ] && [ "$is_root" = 1 ] \
   && { [ ! -f "$ksrc12/tools/testing/selftests/bpf/progs/verifier_and.c" ] || [ ! -f "$ksrc12/scripts/bpf_doc.py" ]; }; then
  if ! dpkg-query -W -f='${Status}' linux-source-6.12 2>/dev/null | grep -q "install ok installed"; then
    say "installing linux-source-6.12 (the kernel's progs/verifier_*.c tests)"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends linux-source-6.12 >/dev/null
  fi
  mkdir -p /var/cache/verifier-diff
  tar xf /usr/src/linux-source-6.12.tar.xz -C /var/cache/verifier-diff \
    linux-source-6.12/Makefile linux-source-6.12/scripts/bpf_doc.py linux-source-6.12/tools/testing/selftests/bpf \
    linux-source-6.12/tools/lib/bpf linux-source-6.12/tools/include
  say "unpacked linux-source-6.12 (Makefile, scripts/bpf_doc.py, tools/testing/selftests/bpf, tools/lib/bpf," \
      "tools/include) into /var/cache/verifier-diff"
fi

# The venv uses Debian's python3 so that the system's bcc (python3-bpfcc) is importable.
py=/usr/bin/python3
[ -x "$py" ] || py="$(command -v python3)"
if [ ! -x .venv/bin/python ]; then
  say "creating .venv (with system site-packages, for bcc)"
  "$py" -m venv --system-site-packages .venv
fi
stamp=".venv/.verifier-diff-installed"
want="$(sha256sum < pyproject.toml | cut -d' ' -f1)"
have="$(cat "$stamp" 2>/dev/null || true)"
# the stamp holds the pyproject hash and, when the test extras are installed, "+tests";
# an install with the extras serves a run without them
if [ "$have" = "$want+tests" ] || { [ "$with_tests" = 0 ] && [ "$have" = "$want" ]; }; then
  exit 0
fi
if [ ! -w .venv ]; then
  say "the virtual environment in .venv is out of date and not writable by $(id -un): run with sudo to update it"
  exit 0
fi
say "installing verifier-diff and its dependencies into .venv"
extra=""; [ "$with_tests" = 1 ] && extra="[test]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${extra}" 2>&1 \
  | grep -v "is ignored: it is neither a file nor a directory" || true
.venv/bin/python -c "import pandas, pyarrow, jinja2, matplotlib" \
  || { say "the Python dependencies did not install"; exit 1; }
if [ "$with_tests" = 1 ]; then echo "$want+tests" > "$stamp"; else echo "$want" > "$stamp"; fi

# Kernel matrix: build the guest loader (gcc -static kernel_loader/matrix/vdload.c) and fetch Debian's
# kernel images (apt-get download + dpkg-deb, nothing installed) into /var/cache/verifier-diff/kernels.
# Idempotent: a second run finds both cached (~0.3 s). VD_KERNELS="" skips it; the default is 6.1 and 6.12.
kernels="${VD_KERNELS-6.1 6.12}"
if [ -n "$kernels" ] && [ "$is_root" = 1 ] && command -v qemu-system-x86_64 >/dev/null; then
  # shellcheck disable=SC2086
  .venv/bin/python -m kernel_loader.matrix setup $kernels >/dev/null \
    || say "kernel matrix not (fully) set up: --kernels with those series will record error rows"
fi
