"""How a process is put together: its settings, the composition root (`bootstrap.py`, the one
builder, and `container.py`, the providers the entry points ask), the neighbouring systems,
logs and traces."""
