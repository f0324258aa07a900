# Sourced by .ci/run: what the web app's browser tests need (crates/web/tests/browser):
# Debian's Chromium and its chromedriver, and axe-core from npm (pinned in .ci/axe's lock)
# for the accessibility check. Installed only when missing.
browser_packages=()
[ -x /usr/bin/chromium ] || browser_packages+=(chromium)
[ -x /usr/bin/chromedriver ] || browser_packages+=(chromium-driver)
command -v npm >/dev/null 2>&1 || browser_packages+=(npm)
if [ "${#browser_packages[@]}" -gt 0 ]; then
  echo "ci: installing ${browser_packages[*]}" >&2
  # One `apt-get update` a run: skipped when postgres.sh's already listed the packages.
  apt-cache show "${browser_packages[@]}" >/dev/null 2>&1 || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${browser_packages[@]}" >/dev/null
fi
if [ ! -f .ci/axe/node_modules/axe-core/axe.min.js ]; then
  echo "ci: installing axe-core" >&2
  npm ci --prefix .ci/axe --no-audit --no-fund --silent
fi
