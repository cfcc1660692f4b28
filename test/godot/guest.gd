# For test/godot.test.ts: a guest through the kit (login_device). Args: URL NAME. Logs in as this device
# and prints CREATED (whether the server made the account now) and GUEST OK NAME LENGTH (NAME:
# Mmo.username, the generated display name; LENGTH: the device id's); a first run then links NAME and
# a password (LINKED OK), a later run logs in with them on a second connection (PASSWORD OK).
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.identity_response_received.connect(func(_sender: int, response: MmoPackets.IdentityResponseMessage) -> void:
		print("CREATED ", response.created))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	var result := await Mmo.login_device(0x336699)
	print("GUEST ", result.ok, " ", Mmo.username, " ", Mmo.device_id().length())
	var linked := await Mmo.link_password(args[1], "a password")
	print("LINKED ", linked.ok, " ", linked.reason)
	Mmo.close()
	await get_tree().create_timer(0.2).timeout
	get_tree().quit(0)
