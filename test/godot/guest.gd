# For test/godot.test.ts: a guest through the kit (login_device). Args: URL. Logs in as this device and
# prints GUEST OK CREATED NAME (CREATED: whether the server made the account now; NAME: Mmo.username,
# the generated display name), then quits; a second run of the same project is the same device.
extends Node


func _ready() -> void:
	var args := OS.get_cmdline_user_args()
	Mmo.identity_response_received.connect(func(_sender: int, response: MmoPackets.IdentityResponseMessage) -> void:
		print("CREATED ", response.created))
	Mmo.connect_to_url(args[0])
	await Mmo.connected
	var result := await Mmo.login_device(0x336699)
	print("GUEST ", result.ok, " ", Mmo.username, " ", Mmo.device_id().length())
	Mmo.close()
	await get_tree().create_timer(0.2).timeout
	get_tree().quit(0)
