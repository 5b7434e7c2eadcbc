export interface Need {
  pkg: string
  program: string
  at: string[]
  why: string
}

export declare const NEEDS: Need[]

export declare function onPath(program: string, path?: string): boolean

export type Plan =
  | { action: 'ok'; missing: Need[] }
  | { action: 'install'; missing: Need[]; commands: string[][] }
  | { action: 'fail'; missing: Need[]; message: string }

export declare function plan(o: { present: (n: Need) => boolean; isRoot: boolean; hasApt: boolean }): Plan
