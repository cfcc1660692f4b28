# For test/godot.test.ts: prints CONNECTED ID each time the kit's client is connected; quits after the second.
extends Node

const Client := preload("res://addons/mmo_server/mmo_client.gd")

var times := 0


func _ready() -> void:
	var client := Client.new()
	add_child(client)
	client.min_backoff = 0.2
	client.connected.connect(func(id: int) -> void:
		times += 1
		print("CONNECTED ", id)
		if times == 2:
			get_tree().quit(0))
	client.disconnected.connect(func(code: int, _reason: String) -> void: print("DISCONNECTED ", code))
	client.connect_to_url(OS.get_cmdline_user_args()[0])
