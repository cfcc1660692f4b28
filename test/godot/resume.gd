# For test/godot.test.ts: logs in (args: URL NAME), prints TOKEN once it holds a session token, then
# after a drop prints RESUMED ID REPLAYED and every chat; quits on the chat "last".
extends Node

const Client := preload("res://addons/mmo_server/mmo_client.gd")

var client: Client
var registered := false


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	client = Client.new()
	add_child(client)
	client.min_backoff = 0.2
	client.connected.connect(func(id: int) -> void:
		print("CONNECTED ", id)
		if registered:
			return
		var register := Client.Packets.RegisterRequestMessage.new()
		register.username = args[1]
		register.password = "password"
		client.send_register_request(register))
	client.ok_response_received.connect(func(_s: int, _m: Client.Packets.OkResponseMessage) -> void:
		if registered:
			return
		registered = true
		var login := Client.Packets.LoginRequestMessage.new()
		login.username = args[1]
		login.password = "password"
		client.send_login_request(login))
	client.resume_token_received.connect(func(_s: int, _m: Client.Packets.ResumeTokenMessage) -> void: print("TOKEN"))
	client.resumed.connect(func(id: int, replayed: int) -> void: print("RESUMED ", id, " ", replayed))
	client.resume_failed.connect(func(reason: String) -> void: print("RESUME_FAILED ", reason))
	client.chat_received.connect(func(sender: int, message: Client.Packets.ChatMessage) -> void:
		print("CHAT ", sender, " ", message.msg)
		if message.msg == "last":
			client.close()
			get_tree().create_timer(0.2).timeout.connect(func() -> void: get_tree().quit(0)))
	client.connect_to_url(args[0])
