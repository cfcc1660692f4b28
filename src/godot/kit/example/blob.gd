# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## The example's look of an entity: a circle of its radius and colour, the name above a player.
## MmoWorld hands it each state of its entity through mmo_state().
extends Node2D

var radius := 10.0
var color := Color(0.55, 0.85, 0.45)
var label := ""


## The entity's state, from MmoWorld: a PlayerMessage or a SporeMessage of Radius Rumble.
func mmo_state(state: Object) -> void:
	radius = state.get(&"radius")
	if state.get(&"name") != null:
		label = state.get(&"name")
		# The colour as the series' client packs it: RGBA, 8 bits each.
		color = Color.hex(state.get(&"color"))
		if color.a == 0.0:
			color.a = 1.0
	queue_redraw()


func _draw() -> void:
	draw_circle(Vector2.ZERO, radius, color)
	if label != "":
		draw_string(ThemeDB.fallback_font, Vector2(-radius, -radius - 6.0), label)
