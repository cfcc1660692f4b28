# For test/godot.test.ts: one message larger than Godot's default inbound buffer (64 KiB) reaches the
# game whole. Args: URL NAME. Prints READY once in the world, then BIG LENGTH for each chat.
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.chat_received.connect(func(_sender: int, chat: MmoPackets.ChatMessage) -> void:
		print("BIG ", chat.msg.length())
		Mmo.close()
		await get_tree().create_timer(0.2).timeout
		get_tree().quit(0))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
	print("READY")
