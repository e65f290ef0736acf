"""The toonzoo Telegram bot: pictures in, guesses out. Knows nothing about tensors."""
