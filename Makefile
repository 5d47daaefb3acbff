# Developer shortcuts. CI runs .ci/run, which does the same checks.
.PHONY: run test generate web lint vulncheck bench fuzz contract browser

BUF := node_modules/@bufbuild/buf-linux-x64/bin/buf

run:
	go run ./cmd/treued

test:
	go test ./...

generate: node_modules
	$(BUF) lint
	$(BUF) generate

# The web app: check its TypeScript and bundle it into assets/web (commit it).
web: node_modules
	npm run typecheck
	node web/build.mjs --sizes

lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...
	go tool staticcheck ./...

bench:
	go test ./bff -run '^$$' -bench Earn -benchtime 3s -count 3
	go test ./bff -run '^$$' -bench GetCard -benchtime 3s -count 3
	go test ./bff -run '^$$' -bench 'WatchFanOut|IdleStreamMemory' -benchtime 10000x
	go test ./wallet/applepass -run '^$$' -bench Package -benchtime 3s -count 3
	go test ./wallet/googlepass -run '^$$' -bench SaveLink -benchtime 2s -count 3

vulncheck:
	go run ./internal/tools/vulndbindex -out .vulndb
	go tool govulncheck -db file://$(CURDIR)/.vulndb ./...

fuzz:
	go test ./bff -run '^$$' -fuzz '^FuzzEarn$$' -fuzztime 60s
	go test ./bff -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 60s

contract: node_modules
	npm run test:contract

# Needs Debian's chromium and zbar-tools (apt-get install chromium zbar-tools).
browser: node_modules
	npm run test:browser

node_modules: package-lock.json
	npm ci --no-audit --no-fund
	touch node_modules
