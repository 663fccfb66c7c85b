# The two commands a newcomer needs: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
STACK := hack/stack.sh

.PHONY: test demo lint unit e2e stack-up stack-down crds crds-check render-deploy render-deploy-check build tools bench

## make test: lint, unit tests, then the real stack up, integration tests, stack down.
test:
	@hack/test.sh

## make demo: stack up, CRDs, operator, examples; prints what to try next.
demo:
	@hack/demo.sh

tools:
	@hack/build-kube.sh && hack/build-etcd-helm.sh && hack/fetch-kafka.sh

build:
	cargo build --bins

lint: render-deploy-check
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings

unit:
	cargo test --workspace --lib --bins

## Integration tests only; expects `make stack-up` first.
e2e:
	source target/stack/env && cargo test --tests -- --test-threads=4

## make bench: the operator at scale against the emulator and the real workers (README "Performance").
bench:
	@hack/bench.sh

stack-up:
	@$(STACK) up

stack-down:
	@$(STACK) down

CHART_POLICY := charts/kafka-connect-operator/templates/admission-policy.yaml

## Regenerate crds/ (and the chart's copy) from the Rust types; copy the admission policy
## (crds/kafkaconnect.dev-admission.yaml, hand-written) to deploy/ and the chart.
crds: build
	./target/debug/kafka-connect-operator crd > crds/kafkaconnect.dev.yaml
	cp crds/kafkaconnect.dev.yaml charts/kafka-connect-operator/crds/
	cp crds/kafkaconnect.dev.yaml deploy/crds/
	cp crds/kafkaconnect.dev-admission.yaml deploy/crds/
	{ echo '{{- if .Values.admissionPolicy.enabled }}'; cat crds/kafkaconnect.dev-admission.yaml; echo '{{- end }}'; } > $(CHART_POLICY)

## Fails when crds/ or a copy differs from what `make crds` would write.
crds-check: build
	./target/debug/kafka-connect-operator crd | diff -u crds/kafkaconnect.dev.yaml -
	diff -u crds/kafkaconnect.dev.yaml charts/kafka-connect-operator/crds/kafkaconnect.dev.yaml
	diff -u crds/kafkaconnect.dev.yaml deploy/crds/kafkaconnect.dev.yaml
	diff -u crds/kafkaconnect.dev-admission.yaml deploy/crds/kafkaconnect.dev-admission.yaml
	{ echo '{{- if .Values.admissionPolicy.enabled }}'; cat crds/kafkaconnect.dev-admission.yaml; echo '{{- end }}'; } | diff -u $(CHART_POLICY) -

## Regenerate deploy/'s RBAC (clusterrole, leader-election-role, role-namespaced) from the chart's
## rules, charts/kafka-connect-operator/files/rbac/ (the one source; helm template with fixed values).
render-deploy:
	@hack/render-deploy.sh

## Fail, with a diff, when deploy/'s RBAC differs from what the chart renders (make test runs it).
render-deploy-check:
	@hack/render-deploy.sh --check
