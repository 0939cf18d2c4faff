# The two commands of the README's quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean translations pg-check pi-check constraints

$(STAMP): pyproject.toml VERSION
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# mfrc522 without its RPi.GPIO dependency: off a Pi the reader tests run
	# the real library against the chip emulator in hardware/emulator.
	$(PY) -m pip install -q --no-deps mfrc522
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kiosk.demo

# Every test but the slow checks below (each runs in CI after it).
test: $(STAMP)
	$(PY) -m pytest -q -m 'not pi and not pg'

# The central store's tests again on PostgreSQL: a throwaway cluster of
# Debian's postgresql (initdb, pg_ctl) that tests/conftest.py starts.
pg-check: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -m pg

# The slow proof that a kiosk installs and starts on a Pi's software stack:
# install.sh --kiosk for real in arm64 Debian 12 and 13 roots under
# qemu-user-static (as root; tests/test_pi_roots.py says what it checks).
pi-check: $(STAMP)
	$(PY) -m pytest -m pi -s -q -p no:cacheprovider tests/test_pi_roots.py

# requirements/constraints.txt, the exact versions install.sh installs: after
# changing a dependency, then run make pi-check and commit both.
constraints:
	$(PYTHON) requirements/make_constraints.py

# Every bench of bench/report.py, one after the other, then one table of their figures.
bench: $(STAMP)
	$(PY) bench/report.py

# After changing a text marked N_() in kiosk/ (or in sync/server, or _() in its
# templates): add the new msgids to kiosk.po (pages.po),
# translate them, and compile (tests/test_i18n.py checks all three).
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -k N_ --no-default-keywords -o kiosk/locale/kiosk.pot kiosk
	$(VENV)/bin/pybabel update -i kiosk/locale/kiosk.pot -d kiosk/locale -D kiosk -l zh_CN --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d kiosk/locale -D kiosk -l zh_CN
	rm kiosk/locale/kiosk.pot
	# The librarian's pages: their own domain, `pages` (sync/server/i18n.py).
	$(VENV)/bin/pybabel extract -F sync/server/babel.cfg -k N_ -k _ -k ngettext:1,2 --no-default-keywords -o sync/server/locale/pages.pot .
	$(VENV)/bin/pybabel update -i sync/server/locale/pages.pot -d sync/server/locale -D pages -l zh_CN --no-fuzzy-matching -w 120
	$(VENV)/bin/pybabel compile -d sync/server/locale -D pages -l zh_CN
	rm sync/server/locale/pages.pot

clean:
	rm -rf $(VENV) build *.egg-info
