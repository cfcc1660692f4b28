# For test/godot.test.ts: MmoWorld while its view moves. The autoload Mmo logs in with a view of 600
# units and steers towards the world's middle for 4 s; spores come into view ahead and leave it behind. Args: URL NAME.
# Prints VIEW JSON: how many entered and left, and any node left behind (stale) on any frame.
extends Node

var world: MmoWorld
var entered := 0
var left := 0
var stale := 0
var gone: Array[Node] = []


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	world = MmoWorld.new()
	world.view_radius = 600.0
	var dot := func(_id: int, _kind: String, _state: Object) -> Node: return Node2D.new()
	world.spawn_with("player", dot)
	world.spawn_with("spore", dot)
	world.entity_entered.connect(func(_id: int, _kind: String, _node: Node) -> void: entered += 1)
	world.entity_left.connect(func(_id: int, _kind: String, node: Node) -> void:
		left += 1
		gone.append(node))
	add_child(world)
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	assert((await Mmo.register(args[1], "a password")).ok)
	assert((await Mmo.login(args[1], "a password")).ok)
	while world.own_node() == null:
		await get_tree().process_frame
	var first := entered
	# Towards the middle of the world, where the spores are on every side.
	var towards := (Vector2.ZERO - world.server_position(world.own_id)).angle()
	var heading := MmoPackets.PlayerDirectionMessage.new()
	heading.direction = towards
	Mmo.send_player_direction(heading)
	world.own_velocity = Vector2.from_angle(towards) * 150.0
	var started := Time.get_ticks_msec()
	while Time.get_ticks_msec() - started < 4000:
		await get_tree().process_frame
		# Every node in view is a child; every node of an entity that left is out of the tree.
		if world.get_child_count() != world.entity_ids().size():
			stale += 1
		for node in gone:
			if is_instance_valid(node) and node.is_inside_tree():
				stale += 1
	print("VIEW ", JSON.stringify({"first": first, "entered": entered - first, "left": left, "stale": stale}))
	Mmo.close()
	await get_tree().create_timer(0.2).timeout
	get_tree().quit(0)
