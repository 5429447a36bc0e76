import { z } from 'zod'

/** Every todo lives in the `todos` stream, group `inbox`; browsers follow it live. */
export const todoSchema = z.object({
  id: z.string(),
  title: z.string(),
  done: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
})

export type Todo = z.infer<typeof todoSchema>

export const config = {
  name: 'todos',
  schema: todoSchema,
}
