# For test/godot.test.ts: a resume that replays a full buffer in one burst arrives whole. Args: URL NAME.
# Prints TOKEN once it holds a session token; after the resume, the number and bytes of chats replayed.
extends Node

var lines := 0
var chars := 0


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.min_backoff = 0.2
	Mmo.resume_token_received.connect(func(_sender: int, _token: MmoPackets.ResumeTokenMessage) -> void: print("TOKEN"))
	Mmo.chat_received.connect(func(_sender: int, chat: MmoPackets.ChatMessage) -> void:
		lines += 1
		chars += chat.msg.length())
	Mmo.resumed.connect(func(_id: int, replayed: int) -> void:
		print("RESUMED ", replayed)
		await get_tree().create_timer(0.5).timeout
		print("REPLAYED ", lines, " ", chars)
		Mmo.close()
		await get_tree().create_timer(0.2).timeout
		get_tree().quit(0))
	Mmo.resume_failed.connect(func(reason: String) -> void: print("RESUME_FAILED ", reason))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
