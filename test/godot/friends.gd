# For test/godot.test.ts: two kit clients in one Godot (the autoload Mmo and a second MmoClient), each
# a guest of its own device. Args: URL. A asks B to be friends by name (ASKED OK), B sees the request
# (RECEIVED) and accepts (ACCEPTED OK), A sees B a friend online (FRIEND STATE ONLINE); A makes a party
# and invites B (INVITED OK), B accepts the invitation (JOINED OK) and A sees both in it (PARTY N).
extends Node


func _ready() -> void:
	var url: String = OS.get_cmdline_user_args()[0]
	var b: Node = Mmo.get_script().new()
	b.device_id_path = "user://friends_b_device.cfg"
	add_child(b)
	Mmo.device_id_path = "user://friends_a_device.cfg"
	Mmo.connect_to_url(url)
	b.connect_to_url(url)
	while Mmo.id == 0 or b.id == 0:
		await get_tree().process_frame
	print("LOGINS ", (await Mmo.login_device()).ok, " ", (await b.login_device()).ok)

	var rows_of_b := []
	b.friend_update_received.connect(func(_sender: int, update: MmoPackets.FriendUpdateMessage) -> void:
		rows_of_b.append(update.friend.state))
	var rows_of_a := []
	Mmo.friend_update_received.connect(func(_sender: int, update: MmoPackets.FriendUpdateMessage) -> void:
		rows_of_a.append("%s %s" % [update.friend.state, update.friend.online]))
	var asked: MmoClient.Result = await Mmo.friend("add", 0, b.username)
	print("ASKED ", asked.ok, " ", asked.reason)
	while not rows_of_b.has("received"):
		await get_tree().process_frame
	print("RECEIVED")
	var accepted: MmoClient.Result = await b.friend("accept", 0, Mmo.username)
	print("ACCEPTED ", accepted.ok, " ", accepted.reason)
	while not rows_of_a.has("friend true"):
		await get_tree().process_frame
	print("FRIEND friend true")

	var invitations := []
	b.party_invitation_received.connect(func(_sender: int, invitation: MmoPackets.PartyInvitationMessage) -> void:
		invitations.append(invitation.party_id))
	var sizes := []
	Mmo.party_state_received.connect(func(_sender: int, party: MmoPackets.PartyStateMessage) -> void:
		sizes.append(party.members.size()))
	print("CREATED ", (await Mmo.party("create")).ok)
	var invited: MmoClient.Result = await Mmo.party("invite", 0, b.username)
	print("INVITED ", invited.ok, " ", invited.reason)
	while invitations.is_empty():
		await get_tree().process_frame
	var joined: MmoClient.Result = await b.party("accept", 0, "", invitations[0])
	print("JOINED ", joined.ok, " ", joined.reason)
	while not sizes.has(2):
		await get_tree().process_frame
	print("PARTY 2")
	var refused: MmoClient.Result = await b.party("invite", 0, Mmo.username)
	print("REFUSED ", refused.ok, " ", refused.reason)
	Mmo.close()
	b.close()
	await get_tree().create_timer(0.2).timeout
	get_tree().quit(0)
