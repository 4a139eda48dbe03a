#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (never a browser downloaded by a test tool) and need a CJK
# font so that Chinese renders in screenshots. Installs both from Debian's packages when missing.
set -euo pipefail
# --system-only: just what the application itself needs (PDF rendering), not the test browser.
need=()
if [ "${1:-}" != "--system-only" ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
fi
# WeasyPrint renders PDFs with Pango
libs="$(ldconfig -p 2>/dev/null || true)"
case "$libs" in *"libpangoft2-1.0.so.0"*) ;; *) need+=(libpangoft2-1.0-0) ;; esac
# Capture first: `fc-list | grep -q` under pipefail fails at random when grep closes the pipe early.
fonts="$(fc-list 2>/dev/null || true)"
case "$fonts" in *"Noto Sans CJK"*) ;; *) need+=(fonts-noto-cjk) ;; esac
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "缺少 ${need[*]}：请以 root 运行 apt-get install ${need[*]}" >&2
  exit 1
fi
echo "安装 ${need[*]} …"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
