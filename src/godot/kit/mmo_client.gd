# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## A connection to an mmo-server: a Node to add as an autoload (Project Settings > Autoload, name
## "Mmo"), or to a scene. Connect with connect_to_url(); every packet from the server arrives as
## packet_received and as the signal of its case (chat_received, player_received, ...); send with the
## helper of its case (send_chat(), ...). Log in with `await Mmo.login(name, password)`, which returns
## a Result. It reconnects by itself when the connection drops (with backoff and jitter; not after a
## close that says not to), and, once logged in, holds a session token, so that a dropped connection
## resumes its session where it was (the server replays what was missed).
## close() ends the connection on purpose (code 1000: the others are told at once).
class_name MmoClient
extends "mmo_messages.gd"

enum State { DISCONNECTED, CONNECTING, OPEN, RECONNECTING }

## What a login or a registration came to: ok, or not and why (the server's reason, word for word,
## or the kit's own when no answer could come: see login()).
class Result extends RefCounted:
	var ok := false
	var reason := ""

	func _init(is_ok := false, why := "") -> void:
		ok = is_ok
		reason = why


## A request that waits for its one answer (ok_response, deny_response, identity_response,
## account_response or resume_token).
class _Request extends RefCounted:
	signal answered(result: Result)
	var kind: StringName
	var username := ""
	## Sent by the kit itself (the session token): its answer is not the game's.
	var own := false
	var result: Result


## After an attempt that never opened: the same upgrade as a plain HTTP request, to read the status a
## WebSocketPeer does not tell (403 origin refused, 429 too many from this address, 503 full).
class _UpgradeProbe extends RefCounted:
	var http := HTTPClient.new()
	var host := ""
	var path := "/"
	var status := 0
	var body := ""
	var done := false
	var _sent := false

	func _init(to_url: String) -> void:
		var secure := to_url.begins_with("wss://")
		var rest := to_url.trim_prefix("wss://").trim_prefix("ws://")
		var slash := rest.find("/")
		host = rest.substr(0, slash) if slash >= 0 else rest
		path = rest.substr(slash) if slash >= 0 else "/"
		var hostname := host
		var port := 443 if secure else 80
		var colon := host.rfind(":")
		if colon > 0 and not host.ends_with("]"):
			hostname = host.substr(0, colon)
			port = int(host.substr(colon + 1))
		hostname = hostname.trim_prefix("[").trim_suffix("]")
		if http.connect_to_host(hostname, port, TLSOptions.client() if secure else null) != OK:
			done = true

	## Polls it; true once it has its answer (status 0: none came).
	func poll() -> bool:
		if done:
			return true
		http.poll()
		match http.get_status():
			HTTPClient.STATUS_CONNECTED:
				if not _sent:
					_sent = true
					var key := Marshalls.raw_to_base64(Crypto.new().generate_random_bytes(16))
					http.request(HTTPClient.METHOD_GET, path, ["Host: " + host, "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + key])
				elif http.has_response():
					status = http.get_response_code()
					done = true
			HTTPClient.STATUS_BODY:
				status = http.get_response_code()
				body += http.read_response_body_chunk().get_string_from_utf8()
				if body != "":
					done = true
			HTTPClient.STATUS_DISCONNECTED, HTTPClient.STATUS_CANT_RESOLVE, HTTPClient.STATUS_CANT_CONNECT, HTTPClient.STATUS_CONNECTION_ERROR, HTTPClient.STATUS_TLS_HANDSHAKE_ERROR:
				done = true
		if done:
			http.close()
		return done


## The reasons the kit gives itself, when the server could not answer.
const NOT_CONNECTED := "Not connected"
const CONNECTION_LOST := "Connection lost before the answer"
const ALREADY_WAITING := "A login or registration is already waiting for its answer"
## The server's refusals of a session token (docs/protocol.md, session resume).
const TOKEN_REFUSALS: Array[String] = ["Session resume is off on this server", "Log in first to get a session token"]

## Close codes after which the client does not come back by itself: the server said the client broke
## a rule (1008 policy, 1003 unsupported data, 1009 too big). The code is the one the server announced
## (its closing message) when it did: Godot's WebSocket reports the server's 1012 (restarting) and 1013
## (try again later), codes it does not know, as 1002 "Protocol error".
const POLICY_CLOSES: Array[int] = [1003, 1008, 1009]
## HTTP answers to the upgrade after which it does not come back by itself either: 403 (its origin is
## not allowed) and 429 (too many connections from its address). 503 (full) is tried again later.
const REFUSALS: Array[int] = [403, 429]

## The connection opened and the server gave this client its id (a fresh connection, or a resumed one).
signal connected(id: int)
## An open connection ended: on purpose (close()), or dropped (then it reconnects unless reconnect is
## off or the close said not to). An attempt that never opened is told by reconnecting or gave_up.
signal disconnected(code: int, reason: String)
## The state changed (State).
signal state_changed(state: State)
## A dropped connection took its session back: the id is the old one; `replayed` packets follow.
signal resumed(id: int, replayed: int)
## A resume was refused (the session ended meanwhile): the connection is a fresh one; log in again.
signal resume_failed(reason: String)
## A login succeeded (through login() or send_login_request()): the name as it was typed.
signal logged_in(username: String)
## The session ended: a logout(), a failed resume, a policy close, or close(). Log in again to play.
signal logged_out(reason: String)
## What the client knew of the game's world is stale: drop it (a failed resume, a logout, close()).
## MmoWorld clears itself on it.
signal world_reset(reason: String)
## The connection dropped and is tried again in `delay` seconds, for the `attempt`-th time since the
## last connection that held.
signal reconnecting(attempt: int, delay: float)
## It stopped trying: the server closed with a code that says not to come back (POLICY_CLOSES), refused
## the upgrade with an HTTP status that says so (REFUSALS: 403, 429; then `code` is that status and
## `reason` the server's text), or max_attempts ran out. `code` is -1 when none came.
signal gave_up(code: int, reason: String)

## Reconnect by itself when the connection drops.
@export var reconnect := true
## Ask for a session token after every login, and resume with it after a drop.
@export var resume_sessions := true
## Keep the session token in token_path, so that the next run of the game (or a reload of its HTML5
## page) resumes the session. Off by default: whoever reads the file can continue the session.
@export var persist_token := false
@export var token_path := "user://mmo_session.cfg"
## Where login_device() keeps this device's id (made once, at random: the only key to its account).
@export var device_id_path := "user://mmo_device.cfg"
## The first wait before a reconnection, in seconds; it doubles up to max_backoff. It starts again from
## min_backoff only once a connection has held for stable_after seconds, so that a server that takes
## connections and closes them at once (1013, busy) is not hammered.
@export var min_backoff := 0.5
@export var max_backoff := 8.0
@export var stable_after := 10.0
## Attempts after a drop before gave_up (0: never give up).
@export var max_attempts := 0
## A connection that has not opened after this many seconds is abandoned and tried again.
@export var connect_timeout := 10.0
## Bytes the connection can hold between two frames of the game. A message larger than this is
## dropped by Godot ("Buffer payload full! Dropping data.") without a close: the default of Godot
## (64 KiB) loses a long chat or a large world frame (a reset frame is the whole view, and is not held
## to the byte budget). The server queues at most its --backpressure-limit (1 MiB by default) for a
## client; a burst of smaller messages (a resume's replay) Godot takes a buffer at a time. Raise it
## with the server's limits.
@export var inbound_buffer_size := 1 << 20
## Packets the connection can hold between two frames of the game (a replay of small chats is many).
@export var max_queued_packets := 1 << 16

var state: State = State.DISCONNECTED
## This client's id: from the id packet, or the old one after a resume.
var id := 0
## The session token the server last gave (empty until a login).
var token := ""
## The name the account logged in with (empty when not logged in).
var username := ""
var url := ""

var _peer: WebSocketPeer
var _backoff := 0.0
var _attempt := 0
var _retry_at := -1.0
var _opening_since := -1.0
var _opened_at := -1.0
var _on_purpose := false
var _resuming := false
var _fresh_id := 0
var _requests: Array[_Request] = []
## Friends, parties and channels: requests waiting for their answers (friend_response, party_response,
## channel_response), which come in order.
var _social: Array[_Request] = []
## The players this one muted (from friends_list and friend("mute"/"unmute")): their channel lines
## and direct messages are not emitted.
var muted := {}
var _probe: _UpgradeProbe
var _probe_since := 0.0
## The close the server announced (its closing message), told instead of what the WebSocket reports.
var _announced_code := -1
var _announced_reason := ""


func _init() -> void:
	# A paused tree still reads its connection: a pause menu must not drop the session.
	process_mode = Node.PROCESS_MODE_ALWAYS


## Opens a connection to `to_url` (ws:// or wss://, ending in /ws). With persist_token, a session kept
## from an earlier run for the same URL is resumed.
func connect_to_url(to_url: String) -> Error:
	url = to_url
	_on_purpose = false
	_backoff = min_backoff
	_attempt = 0
	if persist_token and token == "":
		token = _load_token()
	return _open()


## Ends the connection on purpose, with code 1000, and stops reconnecting.
func close(reason := "bye") -> void:
	_on_purpose = true
	_retry_at = -1.0
	_probe = null
	_end_session("closed")
	if _peer and _peer.get_ready_state() in [WebSocketPeer.STATE_OPEN, WebSocketPeer.STATE_CONNECTING]:
		_peer.close(1000, reason)
	else:
		_set_state(State.DISCONNECTED)


## Registers an account; resolves when the server answers. `var result := await Mmo.register(...)`.
func register(account_name: String, password: String, color := 0) -> Result:
	var message := Packets.RegisterRequestMessage.new()
	message.username = account_name
	message.password = password
	message.color = color
	var packet := Packets.Packet.new()
	packet.set_register_request(message)
	return await _ask(packet)


## Logs in; resolves when the server answers (then logged_in is emitted, and the session token asked
## for). `var result := await Mmo.login(name, password)`; `result.ok`, `result.reason`.
func login(account_name: String, password: String) -> Result:
	var message := Packets.LoginRequestMessage.new()
	message.username = account_name
	message.password = password
	var packet := Packets.Packet.new()
	packet.set_login_request(message)
	return await _ask(packet)


## Logs in as this device: its first login makes an account at once (no password, a generated display
## name, which `username` then holds), the next ones find it. `var result := await Mmo.login_device()`.
func login_device(color := 0) -> Result:
	var message := Packets.DeviceLoginRequestMessage.new()
	message.device_id = device_id()
	message.color = color
	var packet := Packets.Packet.new()
	packet.set_device_login_request(message)
	return await _ask(packet)


## Logs in through a provider the game's server added (ctx.accounts.addProvider) with its ticket.
func login_custom(provider: String, ticket: String, color := 0) -> Result:
	var message := Packets.CustomLoginRequestMessage.new()
	message.provider = provider
	message.ticket = ticket
	message.color = color
	var packet := Packets.Packet.new()
	packet.set_custom_login_request(message)
	return await _ask(packet)


## Logged in by a device or a provider: gives the account a username and a password (the rules of
## register()), after which login() reaches it too, with everything it has.
func link_password(account_name: String, password: String) -> Result:
	var message := Packets.LinkPasswordRequestMessage.new()
	message.username = account_name
	message.password = password
	var packet := Packets.Packet.new()
	packet.set_link_password_request(message)
	return await _ask(packet)


## Logged in: links a device (by default this one) to the account, so that its login_device() reaches it.
func link_device(id := "") -> Result:
	var message := Packets.LinkDeviceRequestMessage.new()
	message.device_id = id if id != "" else device_id()
	var packet := Packets.Packet.new()
	packet.set_link_device_request(message)
	return await _ask(packet)


## Logged in: links the player's id at a provider of the game's server (its ticket) to the account,
## so that its login_custom() reaches it.
func link_custom(provider: String, ticket: String) -> Result:
	var message := Packets.LinkProviderRequestMessage.new()
	message.provider = provider
	message.ticket = ticket
	var packet := Packets.Packet.new()
	packet.set_link_provider_request(message)
	return await _ask(packet)


## Logged in: unlinks a device from the account (refused for its last way in).
func unlink_device(id: String) -> Result:
	var message := Packets.UnlinkDeviceRequestMessage.new()
	message.device_id = id
	var packet := Packets.Packet.new()
	packet.set_unlink_device_request(message)
	return await _ask(packet)


## Logged in: a new display name for the account (its boards' records take it; `username` too).
func set_display_name(display_name: String) -> Result:
	var message := Packets.DisplayNameRequestMessage.new()
	message.name = display_name
	var packet := Packets.Packet.new()
	packet.set_display_name_request(message)
	var result: Result = await _ask(packet)
	if result.ok:
		username = display_name
	return result


## Logged in: a change of the friends list, `action` one of add, accept, decline, remove, block,
## unblock, mute, unmute, of the player user_id, or (user_id 0) of the one whose name is player_name.
## Waits for friend_response; friend_update_received tells what each side's row became.
func friend(action: String, user_id := 0, player_name := "") -> Result:
	var message := Packets.FriendRequestMessage.new()
	message.action = action
	message.user_id = user_id
	message.name = player_name
	var packet := Packets.Packet.new()
	packet.set_friend_request(message)
	return await _ask_social(packet)


## Logged in: a change of parties, `action` one of create, invite (user_id or player_name), accept or
## decline (the party_id of a party_invitation), leave, kick, lead (user_id). Waits for
## party_response; party_state_received has the party after each change.
func party(action: String, user_id := 0, player_name := "", party_id := "") -> Result:
	var message := Packets.PartyRequestMessage.new()
	message.action = action
	message.user_id = user_id
	message.name = player_name
	message.party_id = party_id
	var packet := Packets.Packet.new()
	packet.set_party_request(message)
	return await _ask_social(packet)


## Logged in: joins a chat channel (1-32 of a-z, 0-9, - and _); its lines arrive as channel_line_received.
func join_channel(channel: String) -> Result:
	return await _channel("join", channel)


func leave_channel(channel: String) -> Result:
	return await _channel("leave", channel)


## A line to a joined channel, or to the party with channel "@party"; a refusal arrives as
## channel_response_received (action "send").
func say(channel: String, text: String) -> Error:
	var message := Packets.ChannelSendMessage.new()
	message.channel = channel
	message.text = text
	return send_channel_send(message)


## A direct message to a friend.
func message_friend(user_id: int, text: String) -> Error:
	var message := Packets.ChannelSendMessage.new()
	message.to_user_id = user_id
	message.text = text
	return send_channel_send(message)


func _channel(action: String, channel: String) -> Result:
	var message := Packets.ChannelRequestMessage.new()
	message.action = action
	message.channel = channel
	var packet := Packets.Packet.new()
	packet.set_channel_request(message)
	return await _ask_social(packet)


func _ask_social(packet: Packets.Packet) -> Result:
	if send_packet(packet) != OK:
		return Result.new(false, NOT_CONNECTED)
	var request: _Request = _social.back()
	if request.result == null:
		await request.answered
	return request.result


## The oldest waiting request of that kind.
func _take_social(kind: StringName) -> _Request:
	for i in _social.size():
		if _social[i].kind == kind:
			return _social.pop_at(i)
	return null


## This device's id for login_device(): 32 random hex characters, made on the first call and kept in
## device_id_path. Never show it: it is the only key to the device's account.
func device_id() -> String:
	var file := ConfigFile.new()
	if file.load(device_id_path) == OK:
		var kept: String = file.get_value("device", "id", "")
		if kept != "":
			return kept
	var made := Crypto.new().generate_random_bytes(16).hex_encode()
	file.set_value("device", "id", made)
	file.save(device_id_path)
	return made


## Logs out of the game (back to the lobby, connected): logged_out and world_reset follow at once.
func logout(reason := "logout") -> Error:
	var message := Packets.DisconnectMessage.new()
	message.reason = reason
	return send_disconnect(message)


## Sends a packet (sender_id 0: the server stamps the sender). ERR_UNAVAILABLE when not open.
func send_packet(packet: Packets.Packet) -> Error:
	if state != State.OPEN or _peer == null:
		return ERR_UNAVAILABLE
	var err := _peer.put_packet(packet.to_bytes())
	if err != OK:
		return err
	match packet.msg_case:
		&"login_request", &"register_request", &"device_login_request", &"custom_login_request", &"link_password_request", &"link_device_request", &"unlink_device_request", &"display_name_request", &"link_provider_request":
			var request := _Request.new()
			request.kind = packet.msg_case
			if packet.msg_case == &"login_request":
				request.username = packet.get_login_request().username
			_requests.append(request)
		&"resume_token_request":
			var request := _Request.new()
			request.kind = packet.msg_case
			_requests.append(request)
		&"friend_request", &"party_request", &"channel_request":
			var request := _Request.new()
			request.kind = packet.msg_case
			_social.append(request)
		&"disconnect":
			if username != "":
				_end_session("logout")
	return OK


## Sends a login or a registration and waits for its answer.
func _ask(packet: Packets.Packet) -> Result:
	for waiting in _requests:
		if waiting.kind != &"resume_token_request":
			return Result.new(false, ALREADY_WAITING)
	if send_packet(packet) != OK:
		return Result.new(false, NOT_CONNECTED)
	var request: _Request = _requests.back()
	if request.result == null:
		await request.answered
	return request.result


func _open() -> Error:
	_peer = WebSocketPeer.new()
	_peer.inbound_buffer_size = inbound_buffer_size
	_peer.max_queued_packets = max_queued_packets
	var err := _peer.connect_to_url(url)
	if err != OK:
		_peer = null
		_schedule_retry(-1, "cannot connect (error %d)" % err)
		return err
	_opening_since = _now()
	_set_state(State.CONNECTING)
	return OK


func _process(_delta: float) -> void:
	if _probe != null and (_probe.poll() or _now() - _probe_since > connect_timeout):
		var probe := _probe
		_probe = null
		if probe.status in REFUSALS:
			_end_session("refused by the server: %s" % probe.body.strip_edges())
			gave_up.emit(probe.status, probe.body.strip_edges())
		else:
			_schedule_retry(-1, "cannot connect (HTTP %d)" % probe.status if probe.status != 0 else "cannot connect")
	if _retry_at >= 0.0 and _now() >= _retry_at:
		_retry_at = -1.0
		_open()
	if _peer == null:
		return
	_peer.poll()
	match _peer.get_ready_state():
		WebSocketPeer.STATE_CONNECTING:
			if _now() - _opening_since > connect_timeout:
				# Not opened in time: abandoned (a close of a peer that never opened ends it at once).
				var stuck := _peer
				_peer = null
				stuck.close()
				_closed(-1, "connect timeout")
		WebSocketPeer.STATE_OPEN:
			if state == State.CONNECTING:
				_opened_at = _now()
				_announced_code = -1
				_set_state(State.OPEN)
				if resume_sessions and token != "":
					# The first message of the new connection: take the session back.
					_resuming = true
					var packet := Packets.Packet.new()
					packet.new_resume_request().token = token
					_peer.put_packet(packet.to_bytes())
			while _peer != null and _peer.get_available_packet_count() > 0:
				_receive(_peer.get_packet())
		WebSocketPeer.STATE_CLOSED:
			# What came before the close is read first: the server's closing message among it.
			var ended := _peer
			while _peer == ended and ended.get_available_packet_count() > 0:
				_receive(ended.get_packet())
			if _peer != ended:
				return
			var code := ended.get_close_code()
			var reason := ended.get_close_reason()
			if _announced_code >= 0:
				code = _announced_code
				reason = _announced_reason
			_peer = null
			_closed(code, reason)


## The connection ended, or an attempt failed. In the order things happen: the state is DISCONNECTED,
## what waited for an answer learns it will get none, disconnected is emitted (for a connection that
## was open), then the client gives up or reconnects.
func _closed(code: int, reason: String) -> void:
	_resuming = false
	_set_state(State.DISCONNECTED)
	for request in _requests + _social:
		_answer(request, Result.new(false, CONNECTION_LOST))
	_requests.clear()
	_social.clear()
	var was_open := _opened_at >= 0.0
	var held := was_open and _now() - _opened_at >= stable_after
	_opened_at = -1.0
	if held:
		_backoff = min_backoff
		_attempt = 0
	# An attempt that never opened is no connection ending: reconnecting (or gave_up) tells of it.
	if was_open:
		disconnected.emit(code, reason)
	if _on_purpose or not reconnect:
		return
	if code in POLICY_CLOSES:
		_end_session("closed by the server: %s" % reason)
		gave_up.emit(code, reason)
	elif not was_open and not OS.has_feature("web"):
		# Refused before it opened? The probe reads the status; then it gives up or tries again.
		_probe = _UpgradeProbe.new(url)
		_probe_since = _now()
	else:
		_schedule_retry(code, reason)


func _receive(bytes: PackedByteArray) -> void:
	var packet := Packets.Packet.from_bytes(bytes)
	if packet == null:
		push_warning("mmo-server: a packet that does not decode was dropped")
		return
	# The request this packet answers, resolved once the game's signals have been emitted.
	var answered: _Request = null
	var result: Result = null
	match packet.msg_case:
		&"id":
			_fresh_id = packet.get_id().id
			if not _resuming:
				id = _fresh_id
				connected.emit(id)
		&"resume_response":
			var response := packet.get_resume_response()
			_resuming = false
			if response.ok:
				id = response.id
				connected.emit(id)
				resumed.emit(id, response.replayed)
			else:
				id = _fresh_id
				_end_session(response.reason)
				connected.emit(id)
				resume_failed.emit(response.reason)
		&"closing":
			_announced_code = packet.get_closing().code
			_announced_reason = packet.get_closing().reason
		&"resume_token":
			token = packet.get_resume_token().token
			if persist_token:
				_save_token(token)
			answered = _take_token_request()
			result = Result.new(true)
		&"ok_response":
			answered = _take_request()
			result = Result.new(true)
			if answered != null and answered.kind == &"login_request":
				_logged_in(answered.username)
		&"account_response":
			answered = _take_request()
			result = Result.new(packet.get_account_response().ok, packet.get_account_response().reason)
		&"identity_response":
			var response := packet.get_identity_response()
			answered = _take_request()
			result = Result.new(response.ok, response.reason)
			if response.ok:
				_logged_in(response.display_name)
		&"friend_response":
			var response := packet.get_friend_response()
			answered = _take_social(&"friend_request")
			result = Result.new(response.ok, response.reason)
			if response.ok and response.action == "mute":
				muted[response.user_id] = true
			elif response.ok and response.action == "unmute":
				muted.erase(response.user_id)
		&"friends_list":
			muted.clear()
			for user_id in packet.get_friends_list().muted:
				muted[user_id] = true
		&"party_response":
			answered = _take_social(&"party_request")
			result = Result.new(packet.get_party_response().ok, packet.get_party_response().reason)
		&"channel_response":
			var response := packet.get_channel_response()
			if response.action != "send":
				answered = _take_social(&"channel_request")
				result = Result.new(response.ok, response.reason)
		&"channel_line":
			if muted.has(packet.get_channel_line().sender_id):
				return
		&"deny_response":
			var reason := packet.get_deny_response().reason
			result = Result.new(false, reason)
			if reason in TOKEN_REFUSALS:
				answered = _take_token_request()
				if answered != null and answered.own:
					# The kit's own request: not the game's to handle.
					push_warning("mmo-server: no session token: %s" % reason)
					_answer(answered, result)
					return
			elif not reason.begins_with("Chat refused"):
				# A refused chat line is the game's to show, and answers no request.
				answered = _take_request()
	_dispatch(packet)
	if answered != null:
		_answer(answered, result)


## The oldest waiting login or registration (the server answers them in order; a token request,
## answered at once while a password is being hashed, may be answered between them).
func _take_request() -> _Request:
	for i in _requests.size():
		if _requests[i].kind != &"resume_token_request":
			return _requests.pop_at(i)
	return null


func _take_token_request() -> _Request:
	for i in _requests.size():
		if _requests[i].kind == &"resume_token_request":
			return _requests.pop_at(i)
	return null


func _answer(request: _Request, result: Result) -> void:
	if request.result != null:
		return
	request.result = result
	request.answered.emit(result)


## The session is over: the token is dropped, and the world known is stale.
func _end_session(reason: String) -> void:
	var was_in := username != "" or token != ""
	token = ""
	username = ""
	if persist_token:
		_save_token("")
	if was_in:
		logged_out.emit(reason)
		world_reset.emit(reason)


func _schedule_retry(code: int, reason: String) -> void:
	_attempt += 1
	if max_attempts > 0 and _attempt > max_attempts:
		_set_state(State.DISCONNECTED)
		gave_up.emit(code, "gave up after %d attempts (%s)" % [max_attempts, reason])
		return
	# Jitter, so that many clients dropped at once do not all come back at once.
	var delay := _backoff * randf_range(0.75, 1.25)
	_backoff = minf(_backoff * 2.0, max_backoff)
	_retry_at = _now() + delay
	_set_state(State.RECONNECTING)
	reconnecting.emit(_attempt, delay)


func _set_state(next: State) -> void:
	if state == next:
		return
	state = next
	state_changed.emit(next)


## Logged in (by a password, a device or a provider): told, and the session token asked for.
func _logged_in(name: String) -> void:
	username = name
	logged_in.emit(username)
	if resume_sessions:
		var ask := Packets.Packet.new()
		ask.new_resume_token_request()
		if send_packet(ask) == OK:
			_requests.back().own = true


func _now() -> float:
	return Time.get_ticks_msec() / 1000.0


func _load_token() -> String:
	var file := ConfigFile.new()
	if file.load(token_path) != OK or file.get_value("session", "url", "") != url:
		return ""
	return file.get_value("session", "token", "")


func _save_token(value: String) -> void:
	var file := ConfigFile.new()
	if value != "":
		file.set_value("session", "url", url)
		file.set_value("session", "token", value)
	file.save(token_path)


func _notification(what: int) -> void:
	# A game that quits closes with 1000, so that the others are told at once; one that keeps its token
	# for the next run closes with 1001 (going away), so that the server holds its session meanwhile.
	if what == NOTIFICATION_WM_CLOSE_REQUEST or what == NOTIFICATION_PREDELETE:
		if _peer and _peer.get_ready_state() == WebSocketPeer.STATE_OPEN:
			if persist_token and token != "":
				_peer.close(1001, "going away")
			else:
				_peer.close(1000, "quit")
