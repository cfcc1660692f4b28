# For test/godot.test.ts: a whole session through the autoload Mmo, message by message (the send helpers
# and the signals of each case, as a game that takes no world frames uses them). Args: --url=URL
# --name=NAME. Prints ID, then once in the world counts its own player's updates for 2 s and prints
# RESULT JSON.
extends Node

var name_ := ""
var updates := 0
var started := -1.0
var registered := false


func _ready() -> void:
	var url := ""
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--url="):
			url = arg.trim_prefix("--url=")
		elif arg.begins_with("--name="):
			name_ = arg.trim_prefix("--name=")
	Mmo.connected.connect(func(id: int) -> void:
		print("ID ", id)
		var chat := MmoPackets.ChatMessage.new()
		chat.msg = "hello from the kit"
		Mmo.send_chat(chat)
		var register := MmoPackets.RegisterRequestMessage.new()
		register.username = name_
		register.password = "password"
		register.color = -16711936
		Mmo.send_register_request(register))
	Mmo.chat_received.connect(func(sender_id: int, message: MmoPackets.ChatMessage) -> void: print("CHAT ", sender_id, " ", message.msg))
	Mmo.ok_response_received.connect(func(_sender: int, _m: MmoPackets.OkResponseMessage) -> void:
		if registered:
			print("LOGGED_IN")
			return
		registered = true
		var login := MmoPackets.LoginRequestMessage.new()
		login.username = name_
		login.password = "password"
		Mmo.send_login_request(login))
	Mmo.player_received.connect(func(_sender: int, player: MmoPackets.PlayerMessage) -> void:
		if player.id != Mmo.id:
			return
		if started < 0.0:
			started = Time.get_ticks_msec() / 1000.0
			print("IN_WORLD ", player.color)
		elif Time.get_ticks_msec() / 1000.0 - started <= 2.0:
			updates += 1)
	Mmo.connect_to_url(url)


func _process(_delta: float) -> void:
	if started >= 0.0 and Time.get_ticks_msec() / 1000.0 - started > 2.2:
		print("RESULT ", JSON.stringify({"updates": updates, "token": Mmo.token != ""}))
		Mmo.close()
		set_process(false)
		get_tree().create_timer(0.2).timeout.connect(func() -> void: get_tree().quit(0))
