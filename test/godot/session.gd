# For test/godot.test.ts: a whole session through the kit's client. Args: --url=URL --name=NAME.
# Prints ID, then once in the world counts its own player's updates for 2 s and prints RESULT JSON.
extends Node

const Client := preload("res://addons/mmo_server/mmo_client.gd")

var client: Client
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
	client = Client.new()
	add_child(client)
	client.connected.connect(func(id: int) -> void:
		print("ID ", id)
		var chat := Client.Packets.ChatMessage.new()
		chat.msg = "hello from the kit"
		client.send_chat(chat)
		var register := Client.Packets.RegisterRequestMessage.new()
		register.username = name_
		register.password = "password"
		register.color = -16711936
		client.send_register_request(register))
	client.chat_received.connect(func(sender_id: int, message: Client.Packets.ChatMessage) -> void: print("CHAT ", sender_id, " ", message.msg))
	client.ok_response_received.connect(func(_sender: int, _m: Client.Packets.OkResponseMessage) -> void:
		if registered:
			print("LOGGED_IN")
			return
		registered = true
		var login := Client.Packets.LoginRequestMessage.new()
		login.username = name_
		login.password = "password"
		client.send_login_request(login))
	client.player_received.connect(func(_sender: int, player: Client.Packets.PlayerMessage) -> void:
		if player.id != client.id:
			return
		if started < 0.0:
			started = Time.get_ticks_msec() / 1000.0
			print("IN_WORLD ", player.color)
		elif Time.get_ticks_msec() / 1000.0 - started <= 2.0:
			updates += 1)
	client.connect_to_url(url)


func _process(_delta: float) -> void:
	if started >= 0.0 and Time.get_ticks_msec() / 1000.0 - started > 2.2:
		print("RESULT ", JSON.stringify({"updates": updates, "token": client.token != ""}))
		client.close()
		set_process(false)
		get_tree().create_timer(0.2).timeout.connect(func() -> void: get_tree().quit(0))
