# Qline's two commands (see README): `make run` and `make test`. Both first install
# whatever is missing (.ci/setup-tools), so they work on a fresh Debian machine with Rust.
# Both build the same release (`make release`): the browser suite tests what `make run` serves.

SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
# Binaryen's wasm-opt pinned in .ci/binaryen comes first: Debian's corrupts the bundle.
export PATH := $(CURDIR)/.ci/binaryen/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run release test tools tools-test test-rust test-e2e test-soak check bench bench-tracker-page bench-eta bench-analytics reach-day abuse soak

## run: build a release and serve the demo clinic on http://127.0.0.1:3000 (SQLite under ./data/)
run: release
	./target/release/qline serve --seed-demo

## release: the server binary (target/release/qline, with hash.txt and hash-patient.txt) and the browser bundles, full and patient (target/site, with brotli and gzip copies)
release: tools
	@[ -x target/release/qline ] && [ -d target/site/pkg ] && [ -f target/release/hash-patient.txt ] || rm -f target/release/hash.txt
	@$(MAKE) --no-print-directory target/release/hash.txt

# The release is rebuilt only when something it is made of changed: cargo-leptos itself
# re-runs wasm-bindgen and wasm-opt (about a minute) on every build.
RELEASE_INPUTS := $(shell find app frontend patient server/src server/Cargo.toml style public migrations -type f) \
	Cargo.toml Cargo.lock Leptos.toml rust-toolchain.toml .ci/binaryen/package.json .ci/build-patient
target/release/hash.txt: $(RELEASE_INPUTS)
	cargo leptos build --release --cargo-locked
	.ci/build-patient
	node .ci/precompress.mjs target/site/pkg
	touch $@

## test: the whole suite: unit, both storage backends, HTTP-level, a short soak with faults on both backends, Playwright end-to-end on the release build
test: tools-test release
	.ci/with-postgres $(MAKE) --no-print-directory test-rust test-soak test-e2e
	.ci/summary

tools:
	.ci/setup-tools run

tools-test:
	.ci/setup-tools test

## test-rust: unit, storage (SQLite and PostgreSQL) and HTTP tests; needs QLINE_TEST_POSTGRES_URL or a server on :5432
test-rust:
	mkdir -p target
	cargo test --locked -p qline-app -p qline --features qline-app/ssr 2>&1 | tee target/test-rust.log

## test-soak: a short clinic morning through real release processes with kills, a database outage and a failing provider (1 minute each on PostgreSQL and SQLite, then the invariants); needs QLINE_TEST_POSTGRES_URL
test-soak:
	./target/release/qline soak --backend postgres --postgres-url "$$QLINE_TEST_POSTGRES_URL" --seconds 60 --clinics 20 --patients 15 2>&1 | tee target/soak-postgres.log
	./target/release/qline soak --backend sqlite --seconds 60 --clinics 10 --patients 15 2>&1 | tee target/soak-sqlite.log

## test-e2e: Playwright in Debian's Chromium, each test against the release server on a fresh database (run `make release` first)
test-e2e:
	cd end2end && PLAYWRIGHT_JSON_OUTPUT_NAME=../target/e2e-results.json \
		npx playwright test --project=desktop --project=phone --reporter=list,json

## check: fast compile check of the server and the browser bundle
check:
	cargo check -p qline
	cargo check -p qline-frontend -p qline-patient --target wasm32-unknown-unknown

## bench: engine throughput and NEXT latency across 100 clinics, then the tracker poll ratio (304 and 200 polls against /healthz in one run), on SQLite and PostgreSQL
bench: tools
	cargo build --release -p qline
	.ci/bench

## bench-tracker-page: the tracker's first and repeat visit on emulated slow 3G (bytes transferred, seconds to the token and to the first poll), release build in Chromium
bench-tracker-page: release tools-test
	cd end2end && npx playwright test --project=bench

## bench-eta: score the wait estimates against the fixed rule on 30 held-out synthetic clinics, then on the shipped traces
bench-eta: tools
	cargo build --release -p qline
	.ci/bench-eta

## bench-analytics: the analytics query over a year of history, on SQLite and PostgreSQL
bench-analytics: tools
	cargo build --release -p qline
	.ci/bench-analytics

## reach-day: a simulated day where a third of patients allow push, a third use WhatsApp and a third neither: the share of alerts each channel delivered (SQLite and PostgreSQL)
reach-day: tools-test
	.ci/with-postgres cargo test --locked -p qline --features qline-app/ssr --test reach simulated_day -- --nocapture

## soak: the full clinic morning (20 clinics × 2 queues × 50 patients, 2,000 trackers, 5 minutes) through 3 instances on PostgreSQL, then one on SQLite, with the same faults and checks
soak: release tools-test
	.ci/with-postgres bash -c './target/release/qline soak --backend postgres --postgres-url "$$QLINE_TEST_POSTGRES_URL" --seconds 300 --patients 50'
	./target/release/qline soak --backend sqlite --seconds 300 --clinics 10 --patients 50

## abuse: the release server under attack on loopback: parallel password guessing (guesses checked, peak memory, the real user still signing in) and a thousand never-finished requests
abuse: release
	.ci/abuse
