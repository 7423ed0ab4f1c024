"""How a process is put together: its settings, the composition root (`bootstrap.py`: the
`Container` that declares the graph once, and `bootstrap()`), the process's container and the
`provide_*` functions entry points ask (`container.py`), the neighbouring systems, logs and
traces (ADR 0046)."""
