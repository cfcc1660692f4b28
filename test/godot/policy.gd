# For test/godot.test.ts: a close that says "don't come back" (1008, too many malformed frames) ends
# the kit's reconnection. Args: URL. Prints GAVE_UP CODE, then how many connections it made in 2 s.
extends Node

var connections := 0


func _ready() -> void:
	Mmo.min_backoff = 0.1
	Mmo.connected.connect(func(_id: int) -> void: connections += 1)
	Mmo.gave_up.connect(func(code: int, reason: String) -> void: print("GAVE_UP ", code, " ", reason))
	Mmo.connect_to_url(OS.get_cmdline_user_args()[0])
	await Mmo.connected
	# Garbage the server cannot decode, past its --max-malformed.
	for i in 30:
		Mmo._peer.put_packet(PackedByteArray([0xff, 0xff, 0xff]))
	await Mmo.gave_up
	await get_tree().create_timer(2.0).timeout
	print("AFTER ", connections, " ", Mmo.state == MmoClient.State.DISCONNECTED)
	get_tree().quit(0)
