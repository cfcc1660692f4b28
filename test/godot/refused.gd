# For test/godot.test.ts: an upgrade refused with 429 (too many connections from this address) ends the
# kit's reconnection, with the status and the server's reason. Args: URL. Prints GAVE_UP CODE REASON,
# then how many connections it made and its state 2 s later.
extends Node

var connections := 0


func _ready() -> void:
	Mmo.min_backoff = 0.1
	Mmo.connected.connect(func(_id: int) -> void: connections += 1)
	Mmo.reconnecting.connect(func(attempt: int, _delay: float) -> void: print("RECONNECTING ", attempt))
	Mmo.gave_up.connect(func(code: int, reason: String) -> void: print("GAVE_UP ", code, " ", reason))
	Mmo.connect_to_url(OS.get_cmdline_user_args()[0])
	await Mmo.gave_up
	await get_tree().create_timer(2.0).timeout
	print("AFTER ", connections, " ", MmoClient.State.keys()[Mmo.state])
	get_tree().quit(0)
