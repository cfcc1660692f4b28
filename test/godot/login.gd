# For test/godot.test.ts: the awaitable login flow through the autoload Mmo, as docs/godot.md shows it.
# Args: URL NAME. Prints each result, every deny the game's handler sees, and the lifecycle signals.
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	var name_ := args[1]
	Mmo.deny_response_received.connect(func(_sender: int, deny: MmoPackets.DenyResponseMessage) -> void: print("GAME_DENY ", deny.reason))
	Mmo.logged_in.connect(func(username: String) -> void: print("LOGGED_IN ", username))
	Mmo.logged_out.connect(func(reason: String) -> void: print("LOGGED_OUT ", reason))
	Mmo.world_reset.connect(func(reason: String) -> void: print("WORLD_RESET ", reason))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	var before := await Mmo.login(name_, "a password")
	print("EARLY ", before.ok, " ", before.reason)
	var made := await Mmo.register(name_, "a password")
	print("REGISTER ", made.ok)
	var again := await Mmo.register(name_, "a password")
	print("REGISTER_AGAIN ", again.ok, " ", again.reason)
	var short := await Mmo.register(name_ + "2", "short")
	print("SHORT ", short.ok, " ", short.reason)
	var wrong := await Mmo.login(name_, "not the password")
	print("WRONG ", wrong.ok, " ", wrong.reason)
	var right := await Mmo.login(name_, "a password")
	print("LOGIN ", right.ok, " ", right.reason)
	# Two at once: the second is refused by the kit, not sent.
	Mmo.logout()
	Mmo.login(name_, "a password")
	var second := await Mmo.login(name_, "a password")
	print("SECOND ", second.ok, " ", second.reason)
	await get_tree().create_timer(0.5).timeout
	print("TOKEN ", Mmo.token != "")
	Mmo.close()
	await get_tree().create_timer(0.2).timeout
	print("END")
	get_tree().quit(0)
