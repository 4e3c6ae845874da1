import { splitCommand } from './command-line';

describe('splitCommand', () => {
  it.each<[string, string[]]>([
    ['python infer.py --model llama', ['python', 'infer.py', '--model', 'llama']],
    ['  node   -e   "1"  ', ['node', '-e', '1']],
    [`node -e "setTimeout(()=>{},300)"`, ['node', '-e', 'setTimeout(()=>{},300)']],
    [`echo 'a  b' "c 'd'" e\\ f`, ['echo', 'a  b', "c 'd'", 'e f']],
    [`printf "say \\"hi\\" \\\\ ok"`, ['printf', 'say "hi" \\ ok']],
    [`a''b ""`, ['ab', '']],
    ['train.py --lr=0.1 x#y a~b', ['train.py', '--lr=0.1', 'x#y', 'a~b']],
  ])('%s', (cmd, argv) => expect(splitCommand(cmd)).toEqual(argv));

  it.each([
    'a | b',
    'a && b',
    'a; b',
    'a > out.txt',
    'echo $HOME',
    'echo "$HOME"',
    'echo `id`',
    'ls *.py',
    'cd ~',
    'FOO=1 python x.py',
    'python x.py # comment',
    '(sleep 1)',
    "echo 'unterminated",
    'echo "unterminated',
    'a\nb',
    '',
    '   ',
  ])('needs a shell (or is empty): %j', (cmd) => expect(splitCommand(cmd)).toBeNull());
});
