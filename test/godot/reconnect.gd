# For test/godot.test.ts: the autoload Mmo through a server's restart. Args: URL NAME.
# Logs in (so it holds a session token), prints each state, connection, close and reconnection, and quits once
# its session is back after the restart.
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.min_backoff = 0.2
	Mmo.state_changed.connect(func(state: MmoClient.State) -> void: print("STATE ", MmoClient.State.keys()[state]))
	Mmo.connected.connect(func(id: int) -> void: print("CONNECTED ", id))
	Mmo.disconnected.connect(func(code: int, reason: String) -> void: print("DISCONNECTED ", code, " ", reason))
	Mmo.reconnecting.connect(func(attempt: int, _delay: float) -> void: print("RECONNECTING ", attempt))
	Mmo.resumed.connect(func(id: int, _replayed: int) -> void:
		print("RESUMED ", id)
		get_tree().quit(0))
	Mmo.resume_token_received.connect(func(_sender: int, _token: MmoPackets.ResumeTokenMessage) -> void: print("TOKEN"))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
