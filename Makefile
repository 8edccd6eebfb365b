# The two commands of this project are `make run` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
MODEL := models/delhi-sewa.tar.gz
export TF_CPP_MIN_LOG_LEVEL := 3
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONDONTWRITEBYTECODE := 1
export RASA_TELEMETRY_ENABLED := false

PY_PACKAGES := actions backends connectors dashboard indic_nlu service_catalogue whatsapp_emulator bench tests scripts ops privacy
# `rasa` without its warnings about responses the actions send (scripts/rasa_cli.py)
RASA := $(BIN)/python -m scripts.rasa_cli

# One stage of `make run` / `make test`: what it does and roughly how long it takes, then
# how long it took. $(call stage,<what>,<roughly how long>,<command>): no commas inside.
define stage
@printf '\n==> %s (%s)\n' "$(1)" "$(2)"; start=$$(date +%s); $(3); status=$$?; \
printf '    took %s s\n' "$$(( $$(date +%s) - start ))"; exit $$status
endef

.PHONY: help venv train run test lint types validate unit stories bench-nlu bench-load bench-load-prod test-prod clean

help:
	@echo "make run        start the assistant (trains first if needed)"
	@echo "make test       lint, types, data validation, unit tests and conversation tests"
	@echo "make bench-nlu  NLU benchmark against Rasa's default pipeline"
	@echo "make bench-answers  free-question answers from the knowledge base (bench/answers/)"
	@echo "make test-nlu   rasa test nlu on bench/heldout/: accuracy per language, entity figures"
	@echo "make nlu-compare  before/after of an annotation round (docs/nlu-guide.md)"
	@echo "make bench-load WhatsApp load benchmark: whole citizen journeys (bench/traffic.py), 60 msg/s for 60 s"
	@echo "make bench-load-prod  the same on the production profile, 1 vs 2 Rasa workers"
	@echo "make bench-load-chitchat  the old chit-chat mix against Rasa's stock REST channel"
	@echo "make bench-catalogue  1,000 generated services: NLU training, parse latency, entity accuracy, menu"
	@echo "make test-prod  production-profile tests only (PostgreSQL, Redis, 2 workers)"

venv:
	$(call stage,Python environment: .venv from constraints.txt,about 2 minutes the first time; then a second,scripts/bootstrap.sh)

# `rasa train` fingerprints data, config and domain (and the service catalogue, through
# the entity extractor) and only retrains what changed.
train: venv
	$(call stage,Checking the NLU training data,a few seconds,$(BIN)/python -m dashboard.nlu_export check data)
	$(call stage,Model: validating the data and retraining only what changed,about 30 s if nothing changed; 1-3 minutes to retrain,$(RASA) train --fixed-model-name delhi-sewa --out models --quiet)

# the backends draw certificates with Debian's Noto fonts (scripts/system_packages.sh)
run: train
	$(call stage,System fonts for the certificates,seconds; a minute if apt-get installs them,scripts/system_packages.sh --runtime)
	$(call stage,Starting the assistant: five processes,about a minute until Ready,$(BIN)/python -m scripts.run)

lint: venv
	$(call stage,Lint: ruff check,a few seconds,$(BIN)/ruff check $(PY_PACKAGES))
	$(call stage,Format: ruff format --check,a few seconds,$(BIN)/ruff format --check $(PY_PACKAGES))

types: venv
	$(call stage,Types: mypy,about a minute; seconds when cached,$(BIN)/mypy)

validate: venv
	$(call stage,Checking the NLU training data,a few seconds,$(BIN)/python -m dashboard.nlu_export check data)
	$(call stage,Validating the domain and training data: rasa data validate,about 30 s,$(RASA) data validate --fail-on-warnings --quiet)

unit: train
	$(call stage,Browser for the dashboard tests: chromium,seconds; a few minutes if apt-get installs it,$(BIN)/python -m scripts.browser)
	$(call stage,System packages: fonts and PDF tools,seconds; a minute if apt-get installs them,scripts/system_packages.sh)
	$(call stage,pytest: every test but the soak on two processes (15 slowest listed at the end),about 8 minutes,$(BIN)/pytest -q -n 2 --dist loadfile --durations=15 -m "not soak")

# --quiet hides Rasa's figures: bench.test_report prints a short summary (pass or fail)
stories: train
	@printf '\n==> %s\n' "Conversation stories: rasa test core (about 2 minutes)"
	@rm -f results/stories/story_report.json results/stories/failed_test_stories.yml
	$(BIN)/rasa test core --stories tests/stories --model $(MODEL) \
	  --fail-on-prediction-errors --out results/stories --quiet; \
	status=$$?; $(BIN)/python -m bench.test_report stories results/stories; exit $$status

# `alembic check` for the three databases we own (backends, dashboard, channel): a model
# changed without a migration fails here (ops/migrate.py; `python -m ops.migrate revision`)
.PHONY: migrations
migrations: venv
	$(BIN)/python -m ops.migrate check

test: lint types validate migrations unit stories

bench-nlu: venv
	$(BIN)/python -m bench.nlu

# Free questions answered from the knowledge base (bench/answers/): correct-fact,
# wrong-fact and "I don't know" rates and p95 latency, with the machine's load
.PHONY: bench-answers
bench-answers: venv
	$(BIN)/python -m bench.answers

# `rasa test nlu` on the held-out sentences (never the training data), summarised per
# language and per entity (bench/test_report.py)
.PHONY: test-nlu nlu-compare
test-nlu: train
	$(BIN)/python -m bench.test_report nlu --model $(MODEL) --out results/test-nlu

# After an annotation round (docs/nlu-guide.md): the committed data/nlu vs the working
# copy, trained into results/nlu-compare/ and tested on bench/heldout/; BEFORE= (a git
# ref or a folder) and AFTER= (a folder) compare others
nlu-compare: venv
	$(BIN)/python -m bench.nlu_compare $(if $(BEFORE),--before $(BEFORE)) $(if $(AFTER),--after $(AFTER))

# Benchmarks only on a quiet machine: every table prints the load average and CPU count.
bench-load: train
	$(BIN)/python -m bench.load

# Production profile (PostgreSQL, Redis lock store, event broker), 1 vs 2 Rasa workers;
# starts its own throw-away PostgreSQL cluster and Redis (installs them if missing).
bench-load-prod: train
	$(BIN)/python -m bench.load --production --workers 1,2

.PHONY: bench-load-chitchat bench-catalogue
bench-load-chitchat: train
	$(BIN)/python -m bench.load --mix chitchat --rate 80 --seconds 60

bench-catalogue: venv
	$(BIN)/python -m bench.catalogue_scale

# The time-sensitive tests at fixed clock times (00:30 ... 23:59 IST, 22:45 UTC, 31
# December, 1 January) with libfaketime; too slow for `make test`, which runs the
# in-process clock-pinned tests. Report: results/time-matrix.md.
.PHONY: test-clock
test-clock: venv
	scripts/time_matrix.sh

# The production-profile tests alone; `make test` runs them too (pytest collects tests/).
test-prod: train
	$(BIN)/pytest -q tests/test_prod_scaleout.py tests/test_prod_failsafe.py \
	  tests/test_prod_deploy.py tests/test_ops_logs.py \
	  tests/test_fault_injection.py::test_production_profile_survives_kills_and_postgres_and_redis_restarts

clean:
	rm -rf $(VENV) models/*.tar.gz results .pytest_cache .mypy_cache .ruff_cache
