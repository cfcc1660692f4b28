# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## The kit's example: connects, registers and logs in a new player, and shows Radius Rumble's world
## through MmoWorld: players and spores as circles, the own player steered by the mouse or the arrow
## keys, the camera on it. Run the scene (F6) with the server running (./mmo-server), or headless:
## godot --headless --path . res://addons/mmo_server/example/example.tscn -- --url=ws://HOST:PORT/ws
## It uses the autoload Mmo when the project has it, and its own client otherwise; it refers to the
## kit's classes by preload, so that it also runs in a project the editor has never opened (which is
## when the class names MmoPackets, MmoClient and MmoWorld are registered).
extends Node2D

const Packets := preload("../packets.gd")
const Client := preload("../mmo_client.gd")
const World := preload("../mmo_world.gd")
const Blob := preload("blob.gd")

## Quit after this many world frames showing the own player (from the command line: --updates=N; 0: never).
var quit_after_updates := 0
var _url := "ws://localhost:8080/ws"
var _name := "godot%d" % (randi() % 1000000)
var _mmo: Client
var _world: World
var _status := Label.new()
var _camera := Camera2D.new()
var _updates := 0
var _heading := INF
var _turned_at := 0


func _ready() -> void:
	for arg in OS.get_cmdline_user_args():
		if arg.begins_with("--url="):
			_url = arg.trim_prefix("--url=")
		elif arg.begins_with("--updates="):
			quit_after_updates = int(arg.trim_prefix("--updates="))
	_mmo = get_node_or_null(^"/root/Mmo") as Client
	if _mmo == null:
		_mmo = Client.new()
		add_child(_mmo)
	var hud := CanvasLayer.new()
	hud.add_child(_status)
	add_child(hud)
	add_child(_camera)
	_world = World.new()
	_world.client_path = _mmo.get_path()
	_world.spawn_with("player", func(_id: int, _kind: String, _state: Object) -> Node: return Blob.new())
	_world.spawn_with("spore", func(_id: int, _kind: String, _state: Object) -> Node: return Blob.new())
	_world.frames_refused.connect(func(reason: String) -> void: _say("this server's game shows no world here (%s)" % reason))
	_world.world_cleared.connect(func() -> void: _updates = 0)
	add_child(_world)
	_mmo.connected.connect(_on_connected)
	_mmo.world_frame_received.connect(_on_frame)
	_mmo.reconnecting.connect(func(attempt: int, delay: float) -> void:
		_say("cannot connect to %s (attempt %d): is the server running? Trying again in %.1f s" % [_url, attempt, delay]))
	_mmo.gave_up.connect(func(code: int, reason: String) -> void: _say("the server closed the connection (%d %s): not trying again" % [code, reason]))
	_mmo.chat_received.connect(func(sender_id: int, message: Packets.ChatMessage) -> void: print("chat from %d: %s" % [sender_id, message.msg]))
	_say("connecting to %s" % _url)
	_mmo.connect_to_url(_url)


func _on_connected(id: int) -> void:
	_say("connected, my id is %d" % id)
	if _mmo.username != "":
		return # a resumed session: still logged in
	var hello := Packets.ChatMessage.new()
	hello.msg = "hello from Godot"
	_mmo.send_chat(hello)
	var made := await _mmo.register(_name, "a password", 0x3366FFFF)
	if not made.ok:
		_say("could not register %s: %s" % [_name, made.reason])
		return
	_say("registered %s" % _name)
	var result := await _mmo.login(_name, "a password")
	if not result.ok:
		_say("could not log in: %s" % result.reason)
		return
	_say("logged in; in the world")


func _process(_delta: float) -> void:
	var own := _world.own_node() as Node2D
	if own == null:
		return
	_camera.position = own.position
	_steer(own)


## A world frame (MmoWorld has applied it already): a line now and then, and the end of a headless run.
func _on_frame(_sender_id: int, _frame: Packets.WorldFrameMessage) -> void:
	if _world.own_node() == null:
		return
	_updates += 1
	if _updates == 1 or _updates % 20 == 0:
		var at := _world.server_position(_world.own_id)
		print("example: at (%.1f, %.1f), %d entities in view" % [at.x, at.y, _world.entity_ids().size()])
		_status.text = "%s at (%.0f, %.0f), %d in view" % [_name, at.x, at.y, _world.entity_ids().size()]
	if quit_after_updates > 0 and _updates >= quit_after_updates:
		print("example: done after %d updates" % _updates)
		_mmo.close()
		get_tree().quit(0)


## The own player's heading: the arrow keys, else towards the mouse; sent when it turns, at most 10 times
## a second, and given to MmoWorld to predict the player with.
func _steer(own: Node2D) -> void:
	var keys := Input.get_vector(&"ui_left", &"ui_right", &"ui_up", &"ui_down")
	var heading := keys.angle() if keys != Vector2.ZERO else (get_global_mouse_position() - own.global_position).angle()
	if absf(angle_difference(heading, _heading)) < 0.05 or Time.get_ticks_msec() - _turned_at < 100:
		return
	_heading = heading
	_turned_at = Time.get_ticks_msec()
	var direction := Packets.PlayerDirectionMessage.new()
	direction.direction = heading
	_mmo.send_player_direction(direction)
	var state := _world.state_of(_world.own_id)
	var speed: float = state.get(&"speed") if state != null and state.get(&"speed") > 0.0 else 150.0
	_world.own_velocity = Vector2.from_angle(heading) * speed


func _say(text: String) -> void:
	print("example: ", text)
	_status.text = text
