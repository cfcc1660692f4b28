// Each state's topic is its room: a broadcast reaches every other client in the same room.
export const LOBBY = "lobby";
export const WORLD = "world";
