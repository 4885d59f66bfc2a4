"""The Telegram channel: business owners, experts and admins on one bot.

``build_telegram_channel`` (in :mod:`bot.telegram.runtime`) is what the composition root calls;
the rest is split by what it does: handlers per role (``askers``, ``experts``, ``admins``),
``intake`` (dedup, flood control, the error handler), ``render``/``cards``/``keyboards``
(pure text and buttons), ``sending``, ``notifier`` (the outbox's way in), ``network`` (rate
limits and retries) and ``application`` (the PTB Application and its routing).
"""
