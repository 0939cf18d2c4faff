# The two commands of the README's quick start: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test bench clean translations pi-check constraints

$(STAMP): pyproject.toml VERSION
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	# mfrc522 without its RPi.GPIO dependency: off a Pi the reader tests run
	# the real library against the chip emulator in tests/emulator.
	$(PY) -m pip install -q --no-deps mfrc522
	touch $(STAMP)

demo: $(STAMP)
	$(PY) -m kiosk.demo

test: $(STAMP)
	$(PY) -m pytest -q

# The slow proof that a kiosk installs and starts on a Pi's software stack:
# install.sh --kiosk for real in arm64 Debian 12 and 13 roots under
# qemu-user-static (as root; tests/test_pi_roots.py says what it checks).
pi-check: $(STAMP)
	$(PY) -m pytest -m pi -s -q -p no:cacheprovider tests/test_pi_roots.py

# requirements/constraints.txt, the exact versions install.sh installs: after
# changing a dependency, then run make pi-check and commit both.
constraints:
	$(PYTHON) requirements/make_constraints.py

bench: $(STAMP)
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# After changing a text marked N_() in kiosk/: add the new msgids to kiosk.po,
# translate them, and compile (tests/test_i18n.py checks all three).
translations: $(STAMP)
	$(VENV)/bin/pybabel extract -k N_ --no-default-keywords -o kiosk/locale/kiosk.pot kiosk
	$(VENV)/bin/pybabel update -i kiosk/locale/kiosk.pot -d kiosk/locale -D kiosk -l zh_CN --no-fuzzy-matching
	$(VENV)/bin/pybabel compile -d kiosk/locale -D kiosk -l zh_CN
	rm kiosk/locale/kiosk.pot

clean:
	rm -rf $(VENV) build *.egg-info
