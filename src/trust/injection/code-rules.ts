import { words, type LexicalRule } from './rules.js';

/**
 * Indicators of malicious code inside content: the payload of an injection that asks the assistant to put code
 * into its answer or the user's project. Each indicator is generic (what keyloggers, droppers, reverse shells
 * and ransomware do), and most are weak alone because legitimate code runs subprocesses and posts data too;
 * {@link codeCombination} raises the score when collection and sending appear together.
 */
export const CODE_RULES: readonly LexicalRule[] = [
  {
    id: 'malicious-code.pipe-to-shell',
    family: 'malicious-code',
    score: 0.65,
    message: 'Downloads a script and pipes it into a shell.',
    triggers: words('curl wget iwr iex invoke'),
    re: /\b(?:curl|wget|iwr|invoke-webrequest)\b[^\n|;]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|da|k)?sh\b|\b(?:iex|invoke-expression)\s*\(/g,
  },
  {
    id: 'malicious-code.reverse-shell',
    family: 'malicious-code',
    score: 0.8,
    message: 'Opens a reverse shell.',
    triggers: words('tcp nc ncat bash pty dup2'),
    re: /\/dev\/tcp\/|\bnc(?:at)?\b[^\n]{0,60}\s-[ec]\s|\bbash\s+-i\s*>&|\bpty\.spawn\(|\bos\.dup2\(/g,
  },
  {
    id: 'malicious-code.destructive',
    family: 'malicious-code',
    score: 0.7,
    message: 'Destroys files or the operating system.',
    triggers: words('rm mkfs dd format rmtree system32'),
    re: /\brm\s+-(?:rf|fr)\s+(?:--no-preserve-root\s+)?(?:\/(?=\s|$|\*|"|')|~|\$home|\*)|\bmkfs\.|\bdd\s+if=\/dev\/(?:zero|u?random)\s+of=\/dev\/|:\(\)\s*\{\s*:\s*\|\s*:\s*&\s*\}\s*;\s*:|\bformat\s+c:|shutil\.rmtree\(\s*['"](?:\/|c:\\\\)['"]|system32/g,
  },
  {
    id: 'malicious-code.keylogger',
    family: 'malicious-code',
    score: 0.7,
    message: 'Records keystrokes.',
    triggers: words('pynput keyboard setwindowshookex getasynckeystate keylog keylogger keylogging keylogs'),
    re: /\bpynput\b|\bkeyboard\.(?:on_press|hook|read_key|record)\b|\bsetwindowshookex|\bgetasynckeystate|\bkeylog\w*/g,
  },
  {
    id: 'malicious-code.collect-sensitive',
    family: 'malicious-code',
    score: 0.4,
    message: 'Reads the clipboard, the screen, keys or stored secrets.',
    triggers: words(
      'xsel xclip pbpaste getclipboarddata pyperclip win32clipboard imagegrab pyautogui screenshot gnome screencapture scrot browser_cookie browser_cookie3 passwd shadow ssh aws cookies login private id_rsa clipboard',
    ),
    re: /\b(?:xsel|xclip|pbpaste|getclipboarddata|pyperclip\.paste|win32clipboard|imagegrab\.grab|pyautogui\.screenshot|gnome-screenshot|screencapture|scrot|browser_cookie3?)\b|\/etc\/(?:passwd|shadow)\b|\.ssh\/id_[a-z0-9]+|\bid_rsa\b|\.aws\/credentials|\bcookies\.sqlite|\blogin data\b|private[_ -]?key['"]?\s*,\s*['"]r|\/private\/key/g,
  },
  {
    id: 'malicious-code.collect-system',
    family: 'malicious-code',
    score: 0.15,
    message: 'Collects machine identity, environment or installed software.',
    triggers: words(
      'nvidia uuid getpass wmic systeminfo environ env platform pkg_resources pip gethostname var netstat whoami uname',
    ),
    re: /\b(?:nvidia-smi|uuid\.getnode|getpass\.getuser|wmic|systeminfo|os\.environ|process\.env|pkg_resources\.working_set|pip freeze|socket\.gethostname|netstat|whoami|uname)\b|\bplatform\.(?:system|version|release|machine|node|uname|processor|platform)\(|\/var\/log\//g,
  },
  {
    id: 'malicious-code.send-out',
    family: 'malicious-code',
    score: 0.2,
    message: 'Sends data to a remote host.',
    triggers: words('requests urllib fetch curl rsync scp ftplib smtplib socket send sendall'),
    re: /\brequests\.(?:post|put)\(|\burllib\.request\.urlopen\([^\n]{0,100}data=|\bfetch\([^\n]{0,100}method\s*:\s*['"]post|\bcurl\b[^\n]{0,100}\s(?:-d|--data|-f|--form|-t|--upload-file)\s|\b(?:rsync|scp)\b[^\n]{0,100}@[\w.-]+:|\bftplib\b|\bsmtplib\b|\.send(?:all)?\(/g,
  },
  {
    id: 'malicious-code.network-loop',
    family: 'malicious-code',
    score: 0.4,
    message: 'Calls the network in an endless loop (flooding or beaconing).',
    triggers: words('while'),
    re: /\bwhile\s+(?:true|1)\s*:[^]{0,400}?(?:\brequests\.(?:get|post|put|head)\(|\.connect\(|\.send(?:all)?\(|\burlopen\(|\bping\b|\bsend\(|\bsubprocess\.|\bos\.system\()/g,
  },
  {
    id: 'malicious-code.tunnel',
    family: 'malicious-code',
    score: 0.3,
    message: 'Forwards traffic through a tunnel or relay.',
    triggers: words('ssh bind listen tcp4serverendpoint start_server'),
    re: /\bssh\s+(?:-[a-z]+\s+)?-[lrd]\s*\d+|\.(?:bind|listen)\([^]{0,300}?\.connect\(|\btcp4serverendpoint\b[^]{0,300}?\btcp4clientendpoint\b|\btcp4clientendpoint\b[^]{0,300}?\btcp4serverendpoint\b|\bstart_server\([^]{0,300}?\bopen_connection\(/g,
  },
  {
    id: 'malicious-code.network-disrupt',
    family: 'malicious-code',
    score: 0.6,
    message: 'Disables network access or floods a host.',
    triggers: words(
      'win32_networkadapterconfiguration netsh ifconfig ip ipconfig nmcli iptables scapy syn synflood hping3 slowloris hosts',
    ),
    re: /win32_networkadapterconfiguration|\bnetsh\W{1,4}(?:interface|advfirewall)[^\n]{0,120}\b(?:disable|disabled|off)\b|\bifconfig\W{1,4}\S+\W{1,4}down\b|\bip\W{1,4}link\W{1,4}set\W{1,4}\S+\W{1,4}down\b|\bipconfig\W{1,4}\/release\b|\bnmcli\W{1,4}(?:networking|radio)\W{1,4}(?:\w+\W{1,4})?off\b|\biptables\b[^\n]{0,120}-j\s+drop\b|\bscapy\b|\bsyn\s*flood|\bhping3\b|\bslowloris\b|\/etc\/hosts['"]\s*,\s*['"][aw]/g,
  },
  {
    id: 'malicious-code.resource-exhaustion',
    family: 'malicious-code',
    score: 0.35,
    message: 'Exhausts memory or processes.',
    re: /['"]\w['"]\s*\*\s*(?:10\s*\*\*\s*[6-9]|\d{6,})|\bos\.fork\(\)|\bwhile\s+(?:true|1)\s*:\s*\n[^\n]{0,120}\b(?:fork|process|thread)\w*\(/g,
  },
  {
    id: 'malicious-code.encrypt-files',
    family: 'malicious-code',
    score: 0.2,
    message: 'Encrypts file contents in place.',
    triggers: words('cipher encryptor fernet aes chacha20 ransom ransomware bitcoin decrypt'),
    re: /\bcipher\(|\.encryptor\(\)|\bfernet\(|\baes\.new\(|\bchacha20\b|\bransom\w*|\bbitcoin\b|\bdecrypt your files\b/g,
  },
  {
    id: 'malicious-code.remote-exec',
    family: 'malicious-code',
    score: 0.45,
    message: 'Runs or unpickles something downloaded from the network.',
    triggers: words('pickle marshal exec eval loads'),
    re: /\b(?:requests\.get|urlopen|urllib\.request\.urlopen|fetch)\([^]{0,300}?\b(?:pickle\.loads?|marshal\.loads|exec|eval|yaml\.load)\(|\bpickle\.loads?\(\s*(?:response|resp|r|res|requests\.get|urlopen)\b/g,
  },
  {
    id: 'malicious-code.kill-processes',
    family: 'malicious-code',
    score: 0.5,
    message: 'Kills processes or connections in bulk.',
    triggers: words('psutil taskkill killall pkill'),
    re: /\bfor\s+\w+\s+in\s+psutil\.(?:net_connections|process_iter|pids)\([^]{0,200}?\.(?:terminate|kill)\(|\btaskkill\s+\/f\b|\bkillall\s+-9\b|\bpkill\s+-9\b/g,
  },
  {
    id: 'malicious-code.obfuscated-exec',
    family: 'malicious-code',
    score: 0.6,
    message: 'Executes decoded or obfuscated code.',
    triggers: words('eval exec powershell frombase64string'),
    re: /\b(?:eval|exec)\s*\(\s*(?:base64|atob|compile|codecs\.decode|bytes\.fromhex|__import__|zlib\.decompress|marshal\.loads)|\bpowershell\b[^\n]{0,60}\s-(?:enc|encodedcommand|e)\s+[a-z0-9+/=]{20,}|\bfrombase64string\(/g,
  },
  {
    id: 'malicious-code.persistence',
    family: 'malicious-code',
    score: 0.35,
    message: 'Installs itself to run again (cron, run keys, authorized keys).',
    triggers: words('crontab cron schtasks run authorized_keys'),
    re: /\bcrontab\b|\/etc\/cron\.|\bschtasks\s+\/create|currentversion\\+run\b|\bauthorized_keys\b/g,
  },
  {
    id: 'malicious-code.shell-exec',
    family: 'malicious-code',
    score: 0.1,
    message: 'Runs shell commands.',
    triggers: words('subprocess os child_process execsync shell runtime'),
    re: /\bsubprocess\.(?:call|popen|run|check_output)\(|\bos\.system\(|\bos\.popen\(|\bchild_process\b|\bexecsync\(|\bshell\s*=\s*true\b|\bruntime\.getruntime\(\)\.exec/g,
  },
];

/**
 * Extra score when indicators appear together: collecting something sensitive and sending it out, encrypting
 * files with a key fetched from the network, a shell command that also talks to the network.
 */
export function codeCombination(rules: ReadonlySet<string>, lower: string): number {
  let bonus = 0;
  const sends = rules.has('malicious-code.send-out');
  if (sends && (rules.has('malicious-code.collect-sensitive') || rules.has('malicious-code.keylogger')))
    bonus += 0.35;
  else if (sends && rules.has('malicious-code.collect-system')) bonus += 0.3;
  if (rules.has('malicious-code.encrypt-files')) {
    const writes = /\.write\(|os\.walk|glob\.glob|listdir|readdir/.test(lower);
    const network = /requests\.get\(|urlopen\(|fetch\(/.test(lower);
    const ransom = /\bransom|bitcoin|decrypt your files/.test(lower);
    if (writes && (network || ransom)) bonus += 0.4;
    else if (writes) bonus += 0.15;
  }
  if (rules.has('malicious-code.shell-exec') && sends) bonus += 0.15;
  if (
    rules.has('malicious-code.resource-exhaustion') &&
    /multiprocessing|threading|while\s+(?:true|1)/.test(lower)
  ) {
    bonus += 0.15;
  }
  return bonus;
}
