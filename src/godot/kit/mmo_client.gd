# Written by mmo-server (./mmo-server godot PATH); run it again to update it.
## A connection to an mmo-server: a Node to add as an autoload (Project Settings > Autoload, name
## "Mmo"), or to a scene. Connect with connect_to_url(); every packet from the server arrives as
## packet_received and as the signal of its case (chat_received, player_received, ...); send with the
## helper of its case (send_chat(), send_login_request(), ...). It reconnects by itself when the
## connection drops (with backoff and jitter), and, once logged in, holds a session token, so that a
## dropped connection resumes its session where it was (the server replays what was missed).
## close() ends the connection on purpose (code 1000: the others are told at once).
class_name MmoClient
extends "mmo_messages.gd"

enum State { DISCONNECTED, CONNECTING, OPEN, RECONNECTING }

## The connection opened and the server gave this client its id (a fresh connection, or a resumed one).
signal connected(id: int)
## The connection ended: on purpose (close()), or dropped (then it reconnects unless reconnect is off).
signal disconnected(code: int, reason: String)
## The state changed (State).
signal state_changed(state: State)
## A dropped connection took its session back: the id is the old one; `replayed` packets follow.
signal resumed(id: int, replayed: int)
## A resume was refused (the session ended meanwhile): the connection is a fresh one; log in again.
signal resume_failed(reason: String)

## Reconnect by itself when the connection drops.
@export var reconnect := true
## Ask for a session token after every login, and resume with it after a drop.
@export var resume_sessions := true
## The first wait before a reconnection, in seconds; it doubles up to max_backoff.
@export var min_backoff := 0.5
@export var max_backoff := 8.0

var state: State = State.DISCONNECTED
## This client's id: from the id packet, or the old one after a resume.
var id := 0
## The session token the server last gave (empty until a login).
var token := ""
var url := ""

var _peer: WebSocketPeer
var _backoff := 0.0
var _retry_at := -1.0
var _on_purpose := false
var _login_pending := false
var _resuming := false
var _fresh_id := 0


## Opens a connection to `to_url` (ws:// or wss://, ending in /ws).
func connect_to_url(to_url: String) -> Error:
	url = to_url
	_on_purpose = false
	_backoff = min_backoff
	return _open()


## Ends the connection on purpose, with code 1000, and stops reconnecting.
func close(reason := "bye") -> void:
	_on_purpose = true
	_retry_at = -1.0
	token = ""
	if _peer and _peer.get_ready_state() in [WebSocketPeer.STATE_OPEN, WebSocketPeer.STATE_CONNECTING]:
		_peer.close(1000, reason)
	else:
		_set_state(State.DISCONNECTED)


## Sends a packet (sender_id 0: the server stamps the sender). ERR_UNAVAILABLE when not open.
func send_packet(packet: Packets.Packet) -> Error:
	if state != State.OPEN or _peer == null:
		return ERR_UNAVAILABLE
	if packet.msg_case == &"login_request":
		_login_pending = true
	return _peer.put_packet(packet.to_bytes())


func _open() -> Error:
	_peer = WebSocketPeer.new()
	var err := _peer.connect_to_url(url)
	if err != OK:
		_schedule_retry()
		return err
	_set_state(State.CONNECTING)
	return OK


func _process(_delta: float) -> void:
	if _retry_at >= 0.0 and Time.get_ticks_msec() / 1000.0 >= _retry_at:
		_retry_at = -1.0
		_open()
	if _peer == null:
		return
	_peer.poll()
	match _peer.get_ready_state():
		WebSocketPeer.STATE_OPEN:
			if state == State.CONNECTING:
				_set_state(State.OPEN)
				_backoff = min_backoff
				if resume_sessions and token != "":
					# The first message of the new connection: take the session back.
					_resuming = true
					var packet := Packets.Packet.new()
					packet.new_resume_request().token = token
					_peer.put_packet(packet.to_bytes())
			while _peer.get_available_packet_count() > 0:
				_receive(_peer.get_packet())
		WebSocketPeer.STATE_CLOSED:
			var code := _peer.get_close_code()
			var reason := _peer.get_close_reason()
			_peer = null
			_resuming = false
			disconnected.emit(code, reason)
			if _on_purpose or not reconnect:
				_set_state(State.DISCONNECTED)
			else:
				_schedule_retry()


func _receive(bytes: PackedByteArray) -> void:
	var packet := Packets.Packet.from_bytes(bytes)
	if packet == null:
		push_warning("mmo-server: a packet that does not decode was dropped")
		return
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
				token = ""
				id = _fresh_id
				connected.emit(id)
				resume_failed.emit(response.reason)
		&"resume_token":
			token = packet.get_resume_token().token
		&"ok_response":
			if _login_pending and resume_sessions:
				send_resume_token_request()
			_login_pending = false
		&"deny_response":
			_login_pending = false
	_dispatch(packet)


func _schedule_retry() -> void:
	_set_state(State.RECONNECTING)
	# Jitter, so that many clients dropped at once do not all come back at once.
	_retry_at = Time.get_ticks_msec() / 1000.0 + _backoff * randf_range(0.75, 1.25)
	_backoff = minf(_backoff * 2.0, max_backoff)


func _set_state(next: State) -> void:
	if state == next:
		return
	state = next
	state_changed.emit(next)


func _notification(what: int) -> void:
	# A game that quits closes with 1000, so that the others are told at once.
	if what == NOTIFICATION_WM_CLOSE_REQUEST or what == NOTIFICATION_PREDELETE:
		if _peer and _peer.get_ready_state() == WebSocketPeer.STATE_OPEN:
			_peer.close(1000, "quit")
