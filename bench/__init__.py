"""Benchmarks of the medical summary (issues 3 and 17): `python -m bench` prints the tables.

Layer: benchmarks (not shipped, not pass/fail). bench/tables.py runs them and prints the tables;
bench/README.md says what each figure means. Importing the package imports nothing else, so that
`python -m bench.ehr_server` starts only what the benchmark EHR needs.
"""
