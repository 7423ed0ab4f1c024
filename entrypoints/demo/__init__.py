"""The demo: the four reference scenarios of the domain guide (section 9), run through the
application.

- `scenarios/`: each scenario's terms and dated steps, as plain data; `firm.py` the firm they
  share (legal entities, tax rates, people, rate card, the ERP's customer master).
- `run.py`: the verbs a scenario uses (propose, sign, record time, bill, pay...), each a
  command sent through the message bus (`bus.py`: the bus, the hand-moved clock and the ERP
  master they share); `loader.py` interleaves the scenarios in date order and closes each
  month.
- `runner.py` and `books.py`: each scenario on its own in-memory database, read back through
  units of work into the report's model (`result.py`), rendered by `report.py`.
- `hints.py`: what `serve --demo-keys` prints about the documents of the database.
"""
