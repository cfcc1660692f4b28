# For test/godot.test.ts: every line of res://frames.txt is "bytes HEX" (a packet the server encoded:
# decoded and re-encoded) or "dict JSON" (a packet's fields: built and encoded); prints "OUT HEX" each.
extends Node


func _ready() -> void:
	var file := FileAccess.open("res://frames.txt", FileAccess.READ)
	while not file.eof_reached():
		var line := file.get_line()
		if line.begins_with("bytes "):
			var packet := MmoPackets.Packet.from_bytes(line.trim_prefix("bytes ").hex_decode())
			print("OUT ", packet.to_bytes().hex_encode() if packet != null else "null")
		elif line.begins_with("dict "):
			var packet := MmoPackets.Packet.from_dict(JSON.parse_string(line.trim_prefix("dict ")))
			print("OUT ", packet.to_bytes().hex_encode())
	print("END")
	get_tree().quit(0)
