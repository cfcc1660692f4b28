// The session state machine: a game declares its states in one table (names, handlers, and which
// state may follow which). A state is one object for the whole server; what it keeps per client is the
// value its onEnter returns, handed back to its handlers, so an idle connection carries nothing else.
import type { MsgCase, MsgValue } from "../packets/index.ts";
import { isMsgCase } from "../packets/index.ts";
import type { ClientInterfacer } from "./client.ts";

/** A handler of one message case; it may be async (a login hashes off the event loop). */
export type Handler<K extends MsgCase, D> = (client: ClientInterfacer, value: MsgValue<K>, data: D) => void | Promise<void>;

/** Handlers by oneof case: each gets its own message type, without casts. */
export type Handlers<D> = { [K in MsgCase]?: Handler<K, D> };

export interface ClientState<D = undefined, A = undefined> {
  /** On entering: subscribe, send what the client must learn; returns the client's data in this state. */
  onEnter?(client: ClientInterfacer, arg: A): undefined extends D ? D | void : D;
  /** The messages this state accepts; any other goes to the client's room, or is ignored. */
  handleMessage: Handlers<D>;
  /** On leaving, whether to another state or because the connection closed. */
  onExit?(client: ClientInterfacer, data: D): void;
}

/** Declares a state with its data type `D` and the argument `A` it is entered with. */
export function defineState<D = undefined, A = undefined>(state: ClientState<D, A>): ClientState<D, A> {
  return state;
}

// The table holds states of every data type; each state's handlers only ever see their own data.
export type AnyClientState = ClientState<any, any>;

export interface StateTable<N extends string = string> {
  /** The state every connection starts in. */
  initial: N;
  states: Record<N, AnyClientState>;
  /** The states each state may hand a client to; any other transition is a bug, and throws. */
  transitions: Record<N, readonly N[]>;
}

export class StateMachine {
  readonly initial: string;
  private readonly states: ReadonlyMap<string, AnyClientState>;
  private readonly transitions: ReadonlyMap<string, ReadonlySet<string>>;

  /** Checks the table once, at start: unknown names and unknown message cases stop the start. */
  constructor(table: StateTable) {
    this.states = new Map(Object.entries(table.states));
    this.initial = table.initial;
    const problems: string[] = [];
    if (!this.states.has(table.initial)) problems.push(`the initial state ${table.initial} is not in the table`);
    for (const [name, state] of this.states) {
      for (const kind of Object.keys(state.handleMessage)) {
        if (!isMsgCase(kind)) problems.push(`state ${name} handles "${kind}", which is not a message of packets.proto`);
      }
      const next = table.transitions[name];
      if (!next) problems.push(`state ${name} has no transitions entry (use [] for none)`);
      for (const to of next ?? []) if (!this.states.has(to)) problems.push(`state ${name} may go to ${to}, which is not in the table`);
    }
    if (problems.length > 0) throw new Error(`invalid state table: ${problems.join("; ")}`);
    this.transitions = new Map(Object.entries(table.transitions).map(([from, to]) => [from, new Set(to)]));
  }

  /** The state of that name, checked against the table's transitions from `from` (undefined: the first). */
  next(from: string | undefined, to: string): AnyClientState {
    const state = this.states.get(to);
    if (!state) throw new Error(`no state named ${to}`);
    if (from !== undefined && !this.transitions.get(from)?.has(to)) throw new Error(`no transition from ${from} to ${to} in the state table`);
    return state;
  }
}
