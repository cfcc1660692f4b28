# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## The kit's example: connects, says hello in the lobby, registers and logs in a new player, and
## prints what it sees of the world. Run the scene (F6) with the server running (./mmo-server), or
## headless: godot --headless --path . res://addons/mmo_server/example/example.tscn -- --url=ws://HOST:PORT/ws
extends Node

const MmoClientScript := preload("../mmo_client.gd")

## Quit after this many updates of its own player (from the command line: --updates=N; 0: never).
var quit_after_updates := 0
var _client: MmoClientScript
var _name := "godot%d" % (randi() % 1000000)
var _updates := 0


func _ready() -> void:
	var url := "ws://localhost:8080/ws"
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--url="):
			url = arg.trim_prefix("--url=")
		elif arg.begins_with("--updates="):
			quit_after_updates = int(arg.trim_prefix("--updates="))
	_client = MmoClientScript.new()
	add_child(_client)
	_client.connected.connect(_on_connected)
	_client.chat_received.connect(func(sender_id: int, message) -> void: print("chat from %d: %s" % [sender_id, message.msg]))
	_client.ok_response_received.connect(_on_ok)
	_client.deny_response_received.connect(func(_sender_id: int, message) -> void: print("denied: ", message.reason))
	_client.player_received.connect(_on_player)
	print("example: connecting to ", url)
	_client.connect_to_url(url)


func _on_connected(id: int) -> void:
	print("example: connected, my id is ", id)
	var chat := MmoClientScript.Packets.ChatMessage.new()
	chat.msg = "hello from Godot"
	_client.send_chat(chat)
	var register := MmoClientScript.Packets.RegisterRequestMessage.new()
	register.username = _name
	register.password = "a password"
	register.color = 0x3366FF
	_client.send_register_request(register)


var _registered := false


func _on_ok(_sender_id: int, _message) -> void:
	if not _registered:
		_registered = true
		print("example: registered ", _name)
		var login := MmoClientScript.Packets.LoginRequestMessage.new()
		login.username = _name
		login.password = "a password"
		_client.send_login_request(login)
	else:
		print("example: logged in; in the world")


func _on_player(_sender_id: int, player) -> void:
	if player.id != _client.id:
		return
	_updates += 1
	if _updates == 1 or _updates % 20 == 0:
		print("example: at (%.1f, %.1f), radius %.1f" % [player.x, player.y, player.radius])
	if quit_after_updates > 0 and _updates >= quit_after_updates:
		print("example: done after %d updates" % _updates)
		_client.close()
		get_tree().quit(0)
