# For test/godot.test.ts: a session kept across two runs of the game (persist_token). Args: URL NAME RUN.
# Run "first" logs in, prints TOKEN ID once the token is kept, and quits; run "second" starts with the
# kept token and prints RESUMED ID, or RESUME_FAILED REASON.
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.persist_token = true
	Mmo.resumed.connect(func(id: int, _replayed: int) -> void:
		print("RESUMED ", id)
		Mmo.close()
		await get_tree().create_timer(0.2).timeout
		get_tree().quit(0))
	Mmo.resume_failed.connect(func(reason: String) -> void:
		print("RESUME_FAILED ", reason)
		get_tree().quit(1))
	Mmo.connect_to_url(args[0])
	if args[2] != "first":
		return
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
	await Mmo.resume_token_received
	print("TOKEN ", Mmo.id)
	get_tree().quit(0)
