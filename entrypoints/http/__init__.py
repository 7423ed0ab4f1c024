"""The HTTP API: the Litestar app (`app.py`), its route modules (`routes/`), what every route
runs on (`runtime.py`), the webhook intake, and the server process (`serve.py`)."""
