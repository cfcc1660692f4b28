# For test/godot.test.ts: two kit clients in Radius Rumble's world through MmoWorld, as docs/godot.md
# shows it: the autoload Mmo (through a proxy the test can cut) and a second MmoClient.
# Args: URL_A URL_B NAME_A NAME_B. Prints what each world sees, the figures of a 2 s run, the own
# entity's prediction error, then waits for the test to cut A's connection (a failed resume).
extends Node

var world_a: MmoWorld
var world_b: MmoWorld
var b: MmoClient


func _ready() -> void:
	Engine.max_fps = 60
	var args := OS.get_cmdline_user_args()
	b = MmoClient.new()
	b.name = "B"
	add_child(b)
	world_a = _world(NodePath(""))
	world_b = _world(b.get_path())
	world_a.world_cleared.connect(func() -> void: print("CLEARED_A ", world_a.entity_ids().size()))
	Mmo.resume_failed.connect(_on_resume_failed.bind(args[2]))
	Mmo.connect_to_url(args[0])
	b.connect_to_url(args[1])
	if Mmo.id == 0:
		await Mmo.connected
	if b.id == 0:
		await b.connected
	for pair in [[Mmo, args[2]], [b, args[3]]]:
		var client: MmoClient = pair[0]
		assert((await client.register(pair[1], "a password")).ok)
		assert((await client.login(pair[1], "a password")).ok)
	var a_in_b := await _player_node(world_b, Mmo.id)
	var b_in_a := await _player_node(world_a, b.id)
	print("SEES ", a_in_b != null, " ", b_in_a != null, " ", world_a.entity_ids().size(), " ", world_b.entity_ids().size())
	await _run(a_in_b)
	# B logs out: its node leaves A's world.
	var b_entity: int = b_in_a.get_meta("mmo_id")
	b.logout()
	var waited := 0
	while world_a.node_of(b_entity) != null and waited < 300:
		await get_tree().process_frame
		waited += 1
	print("GONE ", world_a.node_of(b_entity) == null, " ", is_instance_valid(b_in_a) and not b_in_a.is_queued_for_deletion())
	print("READY_TO_CUT")


## After the cut: the session is gone, and so is every node of the world it showed; a new login
## shows the world again.
func _on_resume_failed(reason: String, name_a: String) -> void:
	print("RESUME_FAILED ", world_a.entity_ids().size(), " ", world_a.get_child_count(), " ", reason)
	assert((await Mmo.login(name_a, "a password")).ok)
	while world_a.own_node() == null:
		await get_tree().process_frame
	print("BACK ", world_a.entity_ids().size())
	Mmo.close()
	b.close()
	await get_tree().create_timer(0.2).timeout
	get_tree().quit(0)


## A moves east for 2 s; B watches. The figures of what each shows.
func _run(a_in_b: Node2D) -> void:
	var direction := MmoPackets.PlayerDirectionMessage.new()
	direction.direction = 0.0
	Mmo.send_player_direction(direction)
	world_a.own_velocity = Vector2.from_angle(0.0) * 150.0
	var a_entity: int = a_in_b.get_meta("mmo_id")
	var delay := 2.0 / world_b.tick_hz
	var frames := 0
	var behind_max := 0.0
	var step_max := 0.0
	var still := 0
	var own_error_max := 0.0
	var own_error_sum := 0.0
	var usec_sum := 0
	var usec_max := 0
	var last := a_in_b.position
	var started := Time.get_ticks_msec()
	# The first half second settles the motion in (the server turns A at its next tick).
	while Time.get_ticks_msec() - started < 2500:
		await get_tree().process_frame
		if Time.get_ticks_msec() - started < 500:
			last = a_in_b.position
			continue
		frames += 1
		var server := world_b.server_position(a_entity)
		behind_max = maxf(behind_max, a_in_b.position.distance_to(server))
		var step := a_in_b.position.distance_to(last)
		step_max = maxf(step_max, step)
		if step == 0.0:
			still += 1
		last = a_in_b.position
		var own := world_a.own_node() as Node2D
		var error := own.position.distance_to(world_a.server_position(world_a.own_id))
		own_error_max = maxf(own_error_max, error)
		own_error_sum += error
		usec_sum += world_b.process_usec
		usec_max = maxi(usec_max, world_b.process_usec)
	print("MOTION ", JSON.stringify({
		"frames": frames, "still": still, "behindMax": behind_max, "allowed": 150.0 * (delay + 1.0 / world_b.tick_hz),
		"stepMax": step_max, "ownErrorMax": own_error_max, "ownErrorMean": own_error_sum / frames,
		"entities": world_b.entity_ids().size(), "processUsecMean": usec_sum / frames, "processUsecMax": usec_max,
		"missed": world_b.frames_missed,
	}))


func _world(client: NodePath) -> MmoWorld:
	var world := MmoWorld.new()
	world.client_path = client
	world.view_radius = 4800.0
	var dot := func(_id: int, _kind: String, _state: Object) -> Node: return Node2D.new()
	world.spawn_with("player", dot)
	world.spawn_with("spore", dot)
	add_child(world)
	return world


## The node of the player whose client id is `client_id`, once it is in view.
func _player_node(world: MmoWorld, client_id: int) -> Node2D:
	for i in 300:
		for entity_id in world.entity_ids():
			var state = world.state_of(entity_id)
			if world.kind_of(entity_id) == "player" and state != null and state.id == client_id:
				return world.node_of(entity_id)
		await get_tree().process_frame
	return null

