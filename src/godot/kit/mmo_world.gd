# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## The world as the server's frames describe it, as nodes: add an MmoWorld to the scene, tell it which
## scene (or function) makes the node of each kind of entity, and it asks for world frames once the
## client logs in. It spawns a child for each entity that comes into view, moves it smoothly between
## frames (interpolation, a little behind the newest frame), hands it its state, frees it when the
## entity leaves, and clears everything on a world reset. The client's own entity is not held behind:
## it is predicted from the velocity the game sets (own_velocity) and pulled towards the server's
## positions. See docs/godot.md.
##
## A spawned node gets, when it has them: the property `position` (a Vector2, or a Vector3 whose x and
## z are set), the method `mmo_state(state)` with the entity's state (the game's message, e.g. a
## MmoPackets.PlayerMessage) on entering and on every change, and the metadata "mmo_id" and "mmo_kind".
class_name MmoWorld
extends Node

const Packets := preload("packets.gd")
const Client := preload("mmo_client.gd")

## An entity came into view: its node is a child now.
signal entity_entered(id: int, kind: String, node: Node)
## An entity left the view (or the world): its node is freed after this signal.
signal entity_left(id: int, kind: String, node: Node)
## An entity's state changed (the game's message), after the node's mmo_state().
signal entity_state_changed(id: int, node: Node, state: Object)
## The entity this client's view follows changed (its own player, a new one after a respawn); 0: none.
signal own_entity_changed(id: int, node: Node)
## Every entity was dropped: a reset frame, a failed resume, a logout.
signal world_cleared()
## The server sends frames now (world_info): the view radius, the tick rate.
signal frames_started(view_radius: float, tick_hz: int)
## The server refused frames, with its reason.
signal frames_refused(reason: String)
## One of the room's messages at a place in view (an eat, a respawn): the whole packet.
signal event_received(packet: Packets.Packet)

## The client (MmoClient) whose frames these are; empty: the autoload /root/Mmo.
@export var client_path: NodePath
## Ask for frames when the client logs in (Radius Rumble's world starts at the login). Off: call start().
@export var start_on_login := true
## The view radius to ask for (0: the room's own).
@export var view_radius := 0.0
## How far behind the newest frame the other entities are shown, in seconds, so that there is always a
## frame on each side to interpolate between (-1: two ticks).
@export var interpolation_delay := -1.0
## When frames are late, entities go on along their last velocity for at most this long (seconds).
@export var extrapolation_limit := 0.25
## A step longer than this between two frames is a teleport: the node jumps, it does not glide
## (0: half the view radius).
@export var teleport_distance := 0.0
## Predict the own entity (see own_velocity) instead of showing it behind like the others.
@export var predict_own := true
## How fast a prediction error is corrected: the share of it taken away per second, roughly.
@export var correction_rate := 10.0

## The own entity's velocity as the game's inputs make it, in game units a second (Radius Rumble:
## Vector2.from_angle(direction) * speed). While the game never sets it, the velocity of the server's
## last two positions is used.
var own_velocity := Vector2.ZERO:
	set(value):
		own_velocity = value
		_own_velocity_set = true

## The id of the own entity (0: none yet).
var own_id := 0
## From world_info: the tick rate, the position unit, the view radius. 0 until frames start.
var tick_hz := 0
var precision := 0.0
var radius := 0.0
## The last frame's seq and tick, and frames missed (a gap in seq).
var last_seq := 0
var last_tick := 0
var frames_missed := 0
## Microseconds the last _process took (placing every node in view): the node's cost a frame.
var process_usec := 0

## Per kind: a PackedScene, or a Callable(id: int, kind: String, state: Object) -> Node.
var _makers := {}
var _entities := {}
var _client: Client
var _offset := 0.0
var _synced := false
var _own_velocity_set := false
var _own_position := Vector2.ZERO
var _own_known := false


class _Entity extends RefCounted:
	var id := 0
	var kind := ""
	var node: Node
	var state: Object
	## (tick, position) pairs, oldest first: the last few positions the frames gave.
	var ticks: Array[float] = []
	var points: Array[Vector2] = []

	func add(tick: float, at: Vector2) -> void:
		if not ticks.is_empty() and tick <= ticks.back():
			ticks[-1] = tick
			points[-1] = at
			return
		ticks.append(tick)
		points.append(at)
		if ticks.size() > 8:
			ticks.remove_at(0)
			points.remove_at(0)


## Says which scene makes the nodes of `kind`: a PackedScene, or a Callable(id, kind, state) -> Node.
func spawn_with(kind: String, maker: Variant) -> void:
	assert(maker is PackedScene or maker is Callable, "MmoWorld.spawn_with: a PackedScene or a Callable")
	_makers[kind] = maker


## The node of an entity, or null when it is not in view.
func node_of(entity_id: int) -> Node:
	var entity: _Entity = _entities.get(entity_id)
	return entity.node if entity else null


## The kind of an entity in view ("" when it is not).
func kind_of(entity_id: int) -> String:
	var entity: _Entity = _entities.get(entity_id)
	return entity.kind if entity else ""


## The last state the server gave an entity in view (null when it is not).
func state_of(entity_id: int) -> Object:
	var entity: _Entity = _entities.get(entity_id)
	return entity.state if entity else null


## The ids of the entities in view.
func entity_ids() -> Array:
	return _entities.keys()


## The own entity's node (null when there is none in view).
func own_node() -> Node:
	return node_of(own_id)


## Where an entity is according to the newest frame (not where its node is shown).
func server_position(entity_id: int) -> Vector2:
	var entity: _Entity = _entities.get(entity_id)
	return entity.points.back() if entity and not entity.points.is_empty() else Vector2.ZERO


## Asks the server for frames (done by itself on login when start_on_login is set).
func start() -> Error:
	var request := Packets.WorldFramesRequestMessage.new()
	request.view_radius = view_radius
	return _client.send_world_frames_request(request)


## Drops every entity and frees their nodes.
func clear() -> void:
	for entity: _Entity in _entities.values():
		entity_left.emit(entity.id, entity.kind, entity.node)
		_free(entity.node)
	_entities.clear()
	_own_known = false
	if own_id != 0:
		own_id = 0
		own_entity_changed.emit(0, null)
	world_cleared.emit()


func _ready() -> void:
	_client = (get_node_or_null(client_path) if not client_path.is_empty() else get_node_or_null(^"/root/Mmo")) as Client
	if _client == null:
		push_error("MmoWorld: no client (set client_path, or add mmo_client.gd as the autoload Mmo)")
		set_process(false)
		return
	_client.world_frame_received.connect(_on_frame)
	_client.world_info_received.connect(_on_info)
	_client.world_reset.connect(func(_reason: String) -> void: _restart())
	_client.logged_in.connect(func(_name: String) -> void:
		if start_on_login:
			_restart()
			start())


func _restart() -> void:
	clear()
	tick_hz = 0
	last_seq = 0
	_synced = false


func _on_info(_sender: int, info: Packets.WorldInfoMessage) -> void:
	if not info.ok:
		frames_refused.emit(info.reason)
		return
	tick_hz = info.tick_hz
	precision = info.precision
	radius = info.view_radius
	frames_started.emit(radius, tick_hz)


func _on_frame(_sender: int, frame: Packets.WorldFrameMessage) -> void:
	if tick_hz <= 0:
		return
	if last_seq != 0 and frame.seq > last_seq + 1:
		frames_missed += frame.seq - last_seq - 1
	last_seq = frame.seq
	if frame.reset:
		clear()
		_synced = false
	# The clock: which tick the server is at now, from when frames arrive (smoothed; an early frame
	# moves it at once, a late one slowly, so that a delayed frame does not drag the view back).
	var sample := _now() - float(frame.tick) / tick_hz
	if not _synced or sample < _offset:
		_offset = sample
		_synced = true
	else:
		_offset = lerpf(_offset, sample, 0.02)
	last_tick = frame.tick
	for message in frame.entered:
		_enter(message, frame.tick)
	for message in frame.updated:
		var entity: _Entity = _entities.get(message.id)
		if entity == null:
			continue
		entity.add(frame.tick, Vector2(message.x, message.y) * precision)
		if message.state != null:
			_set_state(entity, message.state)
	for left_id in frame.left:
		var entity: _Entity = _entities.get(left_id)
		if entity == null:
			continue
		_entities.erase(left_id)
		entity_left.emit(entity.id, entity.kind, entity.node)
		_free(entity.node)
	if frame.own != own_id:
		own_id = frame.own
		_own_known = false
		own_entity_changed.emit(own_id, node_of(own_id))
	for event in frame.events:
		event_received.emit(event)


func _enter(message: Packets.EntityMessage, tick: int) -> void:
	if _entities.has(message.id):
		return
	var entity := _Entity.new()
	entity.id = message.id
	entity.kind = message.kind
	var inner: Object = message.state.msg if message.state != null else null
	var maker: Variant = _makers.get(message.kind)
	if maker is PackedScene:
		entity.node = maker.instantiate()
	elif maker is Callable:
		entity.node = maker.call(message.id, message.kind, inner)
	if entity.node == null:
		push_warning("MmoWorld: no scene for entities of kind \"%s\" (spawn_with)" % message.kind)
		entity.node = Node.new()
	entity.node.set_meta("mmo_id", message.id)
	entity.node.set_meta("mmo_kind", message.kind)
	entity.add(tick, Vector2(message.x, message.y) * precision)
	_entities[message.id] = entity
	_place(entity.node, entity.points.back())
	add_child(entity.node)
	if message.state != null:
		_set_state(entity, message.state, false)
	entity_entered.emit(entity.id, entity.kind, entity.node)
	if entity.id == own_id:
		own_entity_changed.emit(own_id, entity.node)


func _set_state(entity: _Entity, packet: Packets.Packet, tell := true) -> void:
	entity.state = packet.msg
	if entity.node.has_method(&"mmo_state"):
		entity.node.call(&"mmo_state", entity.state)
	if tell:
		entity_state_changed.emit(entity.id, entity.node, entity.state)


func _process(delta: float) -> void:
	if tick_hz <= 0 or _entities.is_empty():
		return
	var started := Time.get_ticks_usec()
	var now_tick := (_now() - _offset) * tick_hz
	var delay := interpolation_delay if interpolation_delay >= 0.0 else 2.0 / tick_hz
	var render_tick := now_tick - delay * tick_hz
	var jump := teleport_distance if teleport_distance > 0.0 else radius / 2.0
	var reach := extrapolation_limit * tick_hz
	for entity: _Entity in _entities.values():
		if entity.id == own_id and predict_own:
			_place(entity.node, _predict(entity, now_tick, delta, jump))
		else:
			_place(entity.node, _sample(entity, render_tick, jump, reach))
	process_usec = Time.get_ticks_usec() - started


## Where an entity was at `tick`: between the two frames around it, or, past the newest frame, along
## its last velocity (only while frames are late, and for at most `reach` ticks).
func _sample(entity: _Entity, tick: float, jump: float, reach: float) -> Vector2:
	var ticks := entity.ticks
	var points := entity.points
	var last := ticks.size() - 1
	if tick >= ticks[last]:
		# The newest frames did not move it (still, or kept back by the budget), or none came yet.
		if last == 0 or ticks[last] < last_tick or tick <= last_tick:
			return points[last]
		var step := points[last] - points[last - 1]
		if step.length() > jump:
			return points[last]
		var velocity := step / (ticks[last] - ticks[last - 1])
		return points[last] + velocity * minf(tick - ticks[last], reach)
	if tick <= ticks[0]:
		return points[0]
	var i := ticks.bsearch(tick, false) - 1
	var from := points[i]
	var to := points[i + 1]
	if from.distance_to(to) > jump:
		return from
	return from.lerp(to, (tick - ticks[i]) / (ticks[i + 1] - ticks[i]))


## The own entity now: moved by its velocity every frame, and pulled towards where the server has it
## (its newest position, carried forward by the same velocity to now and the tick an input takes).
func _predict(entity: _Entity, now_tick: float, delta: float, jump: float) -> Vector2:
	var last := entity.ticks.size() - 1
	var velocity := own_velocity
	if not _own_velocity_set:
		velocity = Vector2.ZERO
		if last > 0 and entity.ticks[last] >= last_tick:
			velocity = (entity.points[last] - entity.points[last - 1]) / (entity.ticks[last] - entity.ticks[last - 1]) * tick_hz
	var target := entity.points[last] + velocity * ((now_tick - entity.ticks[last]) + 1.0) / tick_hz
	if not _own_known or _own_position.distance_to(target) > jump:
		_own_position = target
		_own_known = true
		return target
	_own_position += velocity * delta
	_own_position = _own_position.lerp(target, minf(1.0, correction_rate * delta))
	return _own_position


func _free(node: Node) -> void:
	remove_child(node)
	node.queue_free()


func _place(node: Node, at: Vector2) -> void:
	var current: Variant = node.get(&"position")
	if current is Vector2:
		node.set(&"position", at)
	elif current is Vector3:
		node.set(&"position", Vector3(at.x, current.y, at.y))


func _now() -> float:
	return Time.get_ticks_usec() / 1_000_000.0
