import { State } from '@iii-dev/sdk'

/** Users live in state group `users`; `isVerified` is what the async condition checks. */
export async function fetchUser(userId: string | undefined): Promise<{ id: string; isVerified: boolean }> {
  const user = userId === undefined ? null : await new State().get<{ isVerified?: boolean }>('users', userId)
  return { id: userId ?? '', isVerified: user?.isVerified === true }
}
