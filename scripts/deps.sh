#!/usr/bin/env bash
# Install the Debian packages memstate needs, when they are missing.
# As root: apt-get install (refreshing the package lists once if that fails).
# Otherwise: name what is missing and the command that installs it, and go on;
# the build then leaves out what cannot be built.
set -u

packages=(
	build-essential pkg-config clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
	libncurses-dev libcjson-dev bats bats-assert bats-support
	golang-1.19-go strace tmux librsvg2-bin python3 python3-jsonschema clang-format cppcheck
	valgrind linux-perf ltrace libclang-rt-14-dev
	libzstd-dev zstd protobuf-compiler chromium libjemalloc2 libjemalloc-dev nodejs
)

# Test-only npm tools, installed under the build folder (never system-wide): DuckDB
# runs the SQL of docs/analysis.md against timelines in the tests.
npm_tools() {
	local dir=${BUILD:-build}/npm
	[ -d "$dir/node_modules/@duckdb/node-api" ] && return 0
	command -v npm >/dev/null || {
		echo "memstate: npm is missing: the DuckDB tests will be skipped" >&2
		return 0
	}
	mkdir -p "$dir"
	if ! npm install --no-audit --no-fund --silent --prefix "$dir" \
		@duckdb/node-api@1.5.6-r.1 >"$dir/install.log" 2>&1; then
		echo "memstate: npm install @duckdb/node-api failed; see $dir/install.log" >&2
	fi
	return 0
}

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	npm_tools
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "memstate: missing Debian packages: ${missing[*]}" >&2
	echo "memstate: install them with: sudo apt-get install ${missing[*]}" >&2
	exit 0
fi

echo "memstate: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/memstate-apt.log 2>&1; then
	apt-get update -q >>/tmp/memstate-apt.log 2>&1
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/memstate-apt.log 2>&1; then
		echo "memstate: apt-get install failed; see /tmp/memstate-apt.log" >&2
		tail -5 /tmp/memstate-apt.log >&2
		exit 1
	fi
fi
npm_tools
