# For test/godot.test.ts: a server that takes each connection and closes it at once. Args: URL.
# Prints RECONNECTING ATTEMPT DELAY for five attempts, then quits.
extends Node


func _ready() -> void:
	Mmo.min_backoff = 0.1
	Mmo.max_backoff = 10.0
	Mmo.reconnecting.connect(func(attempt: int, delay: float) -> void:
		print("RECONNECTING ", attempt, " ", delay)
		if attempt == 5:
			get_tree().quit(0))
	Mmo.connect_to_url(OS.get_cmdline_user_args()[0])
