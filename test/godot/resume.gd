# For test/godot.test.ts: the autoload Mmo logs in (args: URL NAME), prints TOKEN once it holds a session
# token, then after a drop prints RESUMED ID REPLAYED and every chat; quits on the chat "last".
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.min_backoff = 0.2
	Mmo.connected.connect(func(id: int) -> void: print("CONNECTED ", id))
	Mmo.resume_token_received.connect(func(_sender: int, _token: MmoPackets.ResumeTokenMessage) -> void: print("TOKEN"))
	Mmo.resumed.connect(func(id: int, replayed: int) -> void: print("RESUMED ", id, " ", replayed))
	Mmo.resume_failed.connect(func(reason: String) -> void: print("RESUME_FAILED ", reason))
	Mmo.chat_received.connect(func(sender_id: int, chat: MmoPackets.ChatMessage) -> void:
		print("CHAT ", sender_id, " ", chat.msg)
		if chat.msg == "last":
			Mmo.close()
			await get_tree().create_timer(0.2).timeout
			get_tree().quit(0))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
